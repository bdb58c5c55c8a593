import { writeSync } from 'node:fs';
import type { SFTPWrapper } from 'ssh2';
import { closeHandle, fstat, openRead, read } from './sftp.js';

/** What the listing said the file was; the copy is only good if the file still is that. */
export interface ExpectedFile {
  readonly size: number;
  readonly mtime: number;
}

export type ReadOutcome =
  | { readonly status: 'complete'; readonly bytes: number }
  | { readonly status: 'changed'; readonly bytes: number; readonly reason: string };

export interface ReadLoopOptions {
  /** READ requests kept in flight; OpenSSH answers each with up to 255 KiB. */
  readonly inFlight?: number;
  readonly chunkSize?: number;
}

/**
 * Copies a remote file into the local descriptor `fd` with positioned writes, keeping many READs
 * in flight so a long link stays full. Unlike ssh2's fastGet it reads to EOF (a probe past the
 * expected end catches growth), treats an early EOF as shrinkage, and re-stats after the last
 * byte: a file that changed while read comes back as 'changed', never as complete.
 *
 * Local writes are synchronous on purpose: this runs in a worker thread that owns nothing but its
 * connection, a page-cache write costs microseconds, and going through libuv's shared 4-thread
 * pool instead made small files several times slower (each file queued behind others' I/O).
 */
export async function readRemoteFile(
  sftp: SFTPWrapper,
  remotePath: string,
  fd: number,
  expected: ExpectedFile,
  options: ReadLoopOptions = {},
): Promise<ReadOutcome> {
  const inFlight = options.inFlight ?? 16;
  const chunkSize = options.chunkSize ?? 255 * 1024;
  const handle = await openRead(sftp, remotePath);
  try {
    const remainders: Array<[position: number, length: number]> = [];
    let next = 0;
    let bytes = 0;
    let changed: string | undefined;

    const lane = async (): Promise<void> => {
      const buffer = Buffer.allocUnsafe(Math.min(chunkSize, expected.size));
      // Bounded: every pass consumes part of [0, size) or a remainder shorter than the one it came from.
      for (;;) {
        if (changed) return;
        let range = remainders.pop();
        if (!range && next < expected.size) {
          const length = Math.min(chunkSize, expected.size - next);
          range = [next, length];
          next += length;
        }
        if (!range) return;
        const [position, length] = range;
        const n = await read(sftp, handle, buffer, length, position);
        if (n === 0) {
          changed = `it shrank below ${expected.size} bytes while being read`;
          return;
        }
        if (n < length) remainders.push([position + n, length - n]);
        writeSync(fd, buffer, 0, n, position);
        bytes += n;
      }
    };

    const probe = read(sftp, handle, Buffer.alloc(1), 1, expected.size);
    const lanes = Array.from({ length: Math.min(inFlight, Math.ceil(expected.size / chunkSize)) }, lane);
    const [grown] = await Promise.all([probe, ...lanes]);
    if (changed) return { status: 'changed', bytes, reason: changed };
    if (grown > 0) return { status: 'changed', bytes, reason: `it grew past ${expected.size} bytes while being read` };
    const after = await fstat(sftp, handle);
    if (after.size !== expected.size || after.mtime !== expected.mtime) {
      return { status: 'changed', bytes, reason: 'its size or mtime changed while it was read' };
    }
    return { status: 'complete', bytes };
  } finally {
    void closeHandle(sftp, handle);
  }
}
