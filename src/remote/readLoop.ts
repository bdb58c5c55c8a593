import type { FileHandle } from 'node:fs/promises';
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
 * Copies a remote file into `out` with positioned writes, keeping many READs in flight so a
 * long link stays full. Unlike ssh2's fastGet it reads to EOF (a probe past the expected end
 * catches growth), treats an early EOF as shrinkage, and re-stats after the last byte: a file
 * that changed while read comes back as 'changed', never as complete.
 */
export async function readRemoteFile(
  sftp: SFTPWrapper,
  remotePath: string,
  out: FileHandle,
  expected: ExpectedFile,
  options: ReadLoopOptions = {},
): Promise<ReadOutcome> {
  const inFlight = options.inFlight ?? 16;
  const chunkSize = options.chunkSize ?? 255 * 1024;
  const handle = await openRead(sftp, remotePath);
  try {
    const buffers = new BufferPool(chunkSize, inFlight * 2);
    const writes = new Set<Promise<void>>();
    const remainders: Array<[position: number, length: number]> = [];
    let next = 0;
    let bytes = 0;
    let changed: string | undefined;
    let writeError: unknown;

    const lane = async (): Promise<void> => {
      // Bounded: every pass consumes part of [0, size) or a remainder shorter than the one it came from.
      for (;;) {
        if (changed || writeError) return;
        let range = remainders.pop();
        if (!range && next < expected.size) {
          const length = Math.min(chunkSize, expected.size - next);
          range = [next, length];
          next += length;
        }
        if (!range) return;
        const [position, length] = range;
        const buffer = await buffers.take();
        const n = await read(sftp, handle, buffer, length, position);
        if (n === 0) {
          buffers.give(buffer);
          changed = `it shrank below ${expected.size} bytes while being read`;
          return;
        }
        if (n < length) remainders.push([position + n, length - n]);
        bytes += n;
        const write = out.write(buffer, 0, n, position).then(
          () => buffers.give(buffer),
          (error: unknown) => {
            writeError ??= error;
            buffers.give(buffer);
          },
        );
        writes.add(write);
        void write.then(() => writes.delete(write));
      }
    };

    const probe = read(sftp, handle, Buffer.alloc(1), 1, expected.size);
    const lanes = Array.from({ length: Math.max(1, Math.min(inFlight, Math.ceil(expected.size / chunkSize))) }, lane);
    const [grown] = await Promise.all([probe, ...lanes]);
    await Promise.all(writes);
    if (writeError) throw writeError;
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

/** Reuses read buffers; waiting for a free one is what bounds the local writes in flight. */
class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: Array<(buffer: Buffer) => void> = [];
  private created = 0;

  constructor(
    private readonly size: number,
    private readonly max: number,
  ) {}

  take(): Promise<Buffer> {
    const buffer = this.free.pop();
    if (buffer) return Promise.resolve(buffer);
    if (this.created < this.max) {
      this.created++;
      return Promise.resolve(Buffer.allocUnsafe(this.size));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(buffer: Buffer): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(buffer);
    else this.free.push(buffer);
  }
}
