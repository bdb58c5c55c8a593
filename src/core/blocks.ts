/**
 * Files at least this big travel in blocks that are recorded as they land, so a kill or a
 * dropped link costs at most the blocks in flight. Smaller ones go whole, many to a task.
 */
export const BLOCKED_FROM = 8 * 1024 * 1024;

/**
 * Block size: small enough that the bytes in flight plus the ones not yet recorded stay well
 * under the 16 MiB a kill may cost, large enough that a 100 GB file is 25,600 rows.
 */
export const BLOCK_SIZE = 4 * 1024 * 1024;

/** What the state file knows of a partial file: the remote file as it was when the partial began. */
export interface PartialRecord {
  readonly path: string;
  /** File name under .gsync/partial. */
  readonly name: string;
  readonly size: number;
  readonly mtime: number;
  readonly blockSize: number;
  /** Blocks recorded done: index → xxhash64 (hex) of its bytes. */
  readonly blocks: ReadonlyMap<number, string>;
}

export interface BlockRange {
  readonly index: number;
  readonly start: number;
  readonly length: number;
}

export function blockCount(size: number, blockSize: number = BLOCK_SIZE): number {
  return Math.ceil(size / blockSize);
}

export function blockRange(size: number, index: number, blockSize: number = BLOCK_SIZE): BlockRange {
  const start = index * blockSize;
  return { index, start, length: Math.max(0, Math.min(blockSize, size - start)) };
}

/**
 * Whether a partial can be resumed for the remote file as listed now: only if the file is the
 * one the partial began from (same size and mtime) and was cut the same way.
 */
export function canResume(partial: PartialRecord, remote: { readonly size: number; readonly mtime: number }): boolean {
  return partial.size === remote.size && partial.mtime === remote.mtime && partial.blockSize === BLOCK_SIZE;
}

/** How much of a partial is recorded done (the last block may be short). */
export interface PartialProgress {
  readonly size: number;
  readonly blockSize: number;
  readonly blocksDone: number;
}

export function bytesDone(partial: PartialProgress): number {
  return Math.min(partial.size, partial.blocksDone * partial.blockSize);
}

/** Share of the file's bytes recorded done, 0–100, for `gsync status`. */
export function percentDone(partial: PartialProgress): number {
  if (partial.size === 0) return 100;
  return Math.floor((bytesDone(partial) / partial.size) * 100);
}

/** Block indices [first, end) of one file handed to one worker. */
export interface BlockSpan {
  readonly first: number;
  readonly end: number;
}

/** A part is worth its own connection only if it is at least this many blocks (32 MiB). */
const MIN_PART_BLOCKS = 8;

/**
 * Cuts a file's blocks into contiguous parts, one per connection at most, none smaller than
 * MIN_PART_BLOCKS (except a file that has fewer blocks than that: one part).
 */
export function splitBlocks(blocks: number, connections: number): BlockSpan[] {
  const parts = Math.max(1, Math.min(connections, Math.floor(blocks / MIN_PART_BLOCKS)));
  const spans: BlockSpan[] = [];
  for (let part = 0; part < parts; part++) {
    spans.push({ first: Math.floor((blocks * part) / parts), end: Math.floor((blocks * (part + 1)) / parts) });
  }
  return spans;
}
