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
  return state.digest().toString(16).padStart(16, '0');
}
