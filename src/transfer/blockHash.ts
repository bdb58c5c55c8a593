import { readSync } from 'node:fs';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

let api: Promise<XXHashAPI> | undefined;

/** xxhash-wasm, instantiated once per thread. */
export function hasher(): Promise<XXHashAPI> {
  api ??= xxhash();
  return api;
}

/**
 * The xxhash64 of bytes [start, start + length) of a local file, as 16 hex digits. Read in
 * slices: the WASM memory grows to the largest input it is handed.
 */
export function hashRange(xx: XXHashAPI, fd: number, start: number, length: number, scratch: Buffer): string {
  const state = xx.create64();
  for (let offset = 0; offset < length; ) {
    const want = Math.min(scratch.length, length - offset);
    const n = readSync(fd, scratch, 0, want, start + offset);
    if (n === 0) break;
    state.update(scratch.subarray(0, n));
    offset += n;
  }
  return hexOf(state);
}

/** A finished hash as 16 hex digits: how the state file records a block. */
function hexOf(state: HashState): string {
  return state.digest().toString(16).padStart(16, '0');
}

type HashState = ReturnType<XXHashAPI['create64']>;

interface BlockInProgress {
  readonly state: HashState;
  /** The file offset the hash has reached. */
  next: number;
  /** Bytes that arrived ahead of `next`, copied (the read loop reuses its buffers), by offset. */
  readonly early: Map<number, Buffer>;
}

/**
 * Hashes blocks from their bytes as they arrive, so a finished block is not read back from disk
 * to be hashed (1 GiB read again cost the worker ~0.25 s). The hash is the one hashRange gives
 * the same bytes. OpenSSH answers a handle's READs in order, so bytes come in order; any that
 * do not wait, copied, for the gap before them.
 */
export class ArrivingBlocks {
  readonly #xx: XXHashAPI;
  readonly #ranges: ReadonlyMap<number, { readonly start: number; readonly length: number }>;
  readonly #blocks = new Map<number, BlockInProgress>();

  constructor(xx: XXHashAPI, ranges: ReadonlyArray<{ readonly index: number; readonly start: number; readonly length: number }>) {
    this.#xx = xx;
    this.#ranges = new Map(ranges.map((r) => [r.index, r]));
  }

  /** `bytes` (valid only during the call) were written at file offset `position`, in block `index`. */
  add(index: number, position: number, bytes: Buffer): void {
    const block = this.#blockOf(index);
    if (block === undefined) return;
    if (position !== block.next) {
      if (position > block.next) block.early.set(position, Buffer.from(bytes));
      return;
    }
    block.state.update(bytes);
    block.next += bytes.length;
    for (let ahead = block.early.get(block.next); ahead !== undefined; ahead = block.early.get(block.next)) {
      block.early.delete(block.next);
      block.state.update(ahead);
      block.next += ahead.length;
    }
  }

  /** The block's hash once all its bytes went in; undefined if some never did (the caller reads it back). */
  digest(index: number): string | undefined {
    const block = this.#blocks.get(index);
    this.#blocks.delete(index);
    const range = this.#ranges.get(index);
    if (block === undefined || range === undefined || block.next !== range.start + range.length || block.early.size > 0) return undefined;
    return hexOf(block.state);
  }

  #blockOf(index: number): BlockInProgress | undefined {
    const existing = this.#blocks.get(index);
    if (existing) return existing;
    const range = this.#ranges.get(index);
    if (range === undefined) return undefined;
    const block = { state: this.#xx.create64(), next: range.start, early: new Map<number, Buffer>() };
    this.#blocks.set(index, block);
    return block;
  }
}
