import { writeSync } from 'node:fs';
import type { SFTPWrapper } from 'ssh2';
import { closeHandle, fstat, maxReadLength, openRead, OVERLONG_READ, read } from './sftp.js';

/** What the listing said the file was; the copy is only good if the file still is that. */
export interface ExpectedFile {
  readonly size: number;
  readonly mtime: number;
}

export type ReadOutcome =
  | { readonly status: 'complete'; readonly bytes: number }
  /** `now` is the file as it is after the read: what another attempt should expect. */
  | { readonly status: 'changed'; readonly bytes: number; readonly reason: string; readonly now: ExpectedFile }
  /** The server broke the protocol for this file: more data than asked, or than it says the file has. */
  | { readonly status: 'broken'; readonly reason: string };

export interface ReadLoopOptions {
  /** READ requests kept in flight; default: as the OPEN's round trip calls for (readsInFlight). */
  readonly inFlight?: number;
  /** At most this many bytes asked and not answered, whatever the round trip calls for. */
  readonly maxBytesInFlight?: number;
  readonly chunkSize?: number;
  /** Only these byte ranges (blocks), each reported through `onRange` once all its bytes are written; default the whole file. */
  readonly ranges?: readonly ByteRange[];
  readonly onRange?: (index: number) => void;
  /** Called with each piece of a range as it is written at file offset `position`; `bytes` is only valid during the call. */
  readonly onBytes?: (index: number, position: number, bytes: Buffer) => void;
  /** Called whenever bytes arrive, with how many: the worker's stall watchdog and byte meter feed on it. */
  readonly onData?: (bytes: number) => void;
  /**
   * Asked before each READ, with the bytes it would ask for and the range (block) they are of;
   * resolves, once the budgets allow (--bwlimit, the run's bytes at risk), with how many it may
   * ask for (at least 1). The rest of the chunk is read next. `stop` is aborted once the read
   * has failed or the file changed: a wait for room may end then, as nothing more is read.
   */
  readonly throttle?: (wanted: number, range: number, stop: AbortSignal) => Promise<number>;
}

/**
 * Bytes asked ahead follow the link: enough READs that this rate fits in one round trip, between
 * 16 (4 MiB: a short link never waits) and 64 (16 MiB: ~160 MiB/s at 100 ms). More than the link
 * needs is not free: on the bench's LAN, 16 MiB in flight made 1 GiB take 6 s instead of 2.8 s.
 */
const TARGET_BYTES_PER_MS = 320 * 1024 * 1024 / 1000;
const MIN_READS_IN_FLIGHT = 16;
const MAX_READS_IN_FLIGHT = 64;

/** READs to keep in flight over a link whose round trip took `roundTripMs`. */
export function readsInFlight(roundTripMs: number, chunkSize: number): number {
  const wanted = Math.ceil((TARGET_BYTES_PER_MS * Math.max(0, roundTripMs)) / chunkSize);
  return Math.max(MIN_READS_IN_FLIGHT, Math.min(MAX_READS_IN_FLIGHT, wanted));
}

export interface ByteRange {
  readonly index: number;
  readonly start: number;
  readonly length: number;
}

/**
 * Copies a remote file (or some ranges of it) into the local descriptor `fd` with positioned
 * writes, keeping many READs in flight so a long link stays full. Unlike ssh2's fastGet it reads
 * to EOF (a probe past the expected end catches growth), treats an early EOF as shrinkage, and
 * re-stats after the last byte: a file that changed while read comes back as 'changed', never
 * as complete. A server that answers a READ with more than asked, or serves bytes past the end
 * its own attributes give, broke the protocol for that file: 'broken'.
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
  const chunkSize = Math.min(options.chunkSize ?? 255 * 1024, maxReadLength(sftp));
  const ranges = options.ranges ?? [{ index: 0, start: 0, length: expected.size }];
  const opening = performance.now();
  const handle = await openRead(sftp, remotePath);
  // The OPEN is one round trip: how far ahead to ask, measured on this file's own link.
  const inFlight = Math.min(
    options.inFlight ?? readsInFlight(performance.now() - opening, chunkSize),
    Math.max(1, Math.floor((options.maxBytesInFlight ?? Infinity) / chunkSize)),
  );
  try {
    const chunks = new ChunkQueue(ranges, chunkSize);
    let bytes = 0;
    let changed: string | undefined;
    // The first failed READ: no lane writes another byte after it, since the caller closes `fd`
    // (and may reuse its number) as soon as this returns.
    let failed: { error: unknown } | undefined;
    // Aborted at the first failure or change: lanes waiting in throttle need not wait on.
    const stop = new AbortController();
    const fail = (error: unknown): void => {
      failed ??= { error };
      stop.abort();
    };

    const lane = async (): Promise<void> => {
      // One spare byte: read() needs it to catch a reply longer than asked.
      const buffer = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(1, expected.size)) + 1);
      try {
        // Bounded: every pass consumes part of a range or a remainder shorter than the one it came from.
        for (let chunk = chunks.next(); chunk && !changed && !failed; chunk = chunks.next()) {
          const length = options.throttle ? await options.throttle(chunk.length, chunk.range, stop.signal) : chunk.length;
          if (failed || changed) return;
          const n = await read(sftp, handle, buffer, Math.min(length, chunk.length), chunk.position);
          if (failed) return;
          if (n === 0) {
            changed = `it shrank below ${expected.size} bytes while being read`;
            stop.abort();
            return;
          }
          options.onData?.(n);
          writeSync(fd, buffer, 0, n, chunk.position);
          options.onBytes?.(chunk.range, chunk.position, buffer.subarray(0, n));
          bytes += n;
          const finished = chunks.written(chunk, n);
          if (finished !== undefined) options.onRange?.(finished);
        }
      } catch (error) {
        fail(error);
      }
    };

    const probe = read(sftp, handle, Buffer.alloc(2), 1, expected.size).catch((error: unknown) => {
      fail(error);
      return 0;
    });
    const lanes = Array.from({ length: Math.max(1, Math.min(inFlight, chunks.count)) }, lane);
    // Every READ is on its way already (a small file's one, a short range's few): the FSTAT goes
    // right behind them, and the server answers a handle's requests in order, so it still sees
    // the file as it was after they were served, one round trip sooner. A READ issued later (a
    // short answer's remainder, or the rest of a longer file) needs a FSTAT of its own.
    const early = chunks.count <= lanes.length && !options.throttle ? fstat(sftp, handle) : undefined;
    // Its failure is thrown where it is awaited, if it is; until then it must not count as unhandled.
    early?.catch(() => undefined);
    const [grown] = await Promise.all([probe, ...lanes]);
    if (failed) {
      if ((failed.error as Error | undefined)?.message === OVERLONG_READ) return { status: 'broken', reason: 'a READ was answered with more bytes than asked' };
      throw failed.error;
    }
    const after = early && chunks.issued === chunks.count ? await early : await fstat(sftp, handle);
    const now = { size: after.size, mtime: after.mtime };
    if (changed) return { status: 'changed', bytes, reason: changed, now };
    if (grown > 0 && now.size <= expected.size) {
      return { status: 'broken', reason: `it served bytes past its end (${expected.size} bytes, by its own attributes)` };
    }
    if (grown > 0) return { status: 'changed', bytes, reason: `it grew past ${expected.size} bytes while being read`, now };
    if (now.size !== expected.size || now.mtime !== expected.mtime) {
      return { status: 'changed', bytes, reason: 'its size or mtime changed while it was read', now };
    }
    return { status: 'complete', bytes };
  } finally {
    void closeHandle(sftp, handle);
  }
}

interface Chunk {
  readonly range: number;
  readonly position: number;
  readonly length: number;
}

/** The READs still to issue, range by range, and how many bytes each range still waits for. */
class ChunkQueue {
  readonly count: number;
  /** READs handed out so far, remainders included. */
  issued = 0;
  readonly #pending: Chunk[] = [];
  readonly #remainders: Chunk[] = [];
  readonly #left = new Map<number, number>();

  constructor(ranges: readonly ByteRange[], chunkSize: number) {
    for (const range of ranges) {
      this.#left.set(range.index, range.length);
      for (let offset = 0; offset < range.length; offset += chunkSize) {
        this.#pending.push({ range: range.index, position: range.start + offset, length: Math.min(chunkSize, range.length - offset) });
      }
    }
    this.#pending.reverse();
    this.count = this.#pending.length;
  }

  next(): Chunk | undefined {
    const chunk = this.#remainders.pop() ?? this.#pending.pop();
    if (chunk) this.issued++;
    return chunk;
  }

  /** Records `n` bytes of `chunk` written; returns the range's index when that completed it. */
  written(chunk: Chunk, n: number): number | undefined {
    if (n < chunk.length) this.#remainders.push({ range: chunk.range, position: chunk.position + n, length: chunk.length - n });
    const left = (this.#left.get(chunk.range) ?? 0) - n;
    this.#left.set(chunk.range, left);
    return left === 0 ? chunk.range : undefined;
  }
}
