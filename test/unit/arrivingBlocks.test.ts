import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XXHashAPI } from 'xxhash-wasm';
import { ArrivingBlocks, hashRange, hasher } from '../../src/transfer/blockHash.js';
import { pseudoRandomBytes } from '../support/trees.js';

const BLOCK = 64 * 1024;
const bytes = pseudoRandomBytes('arriving-blocks', 3 * BLOCK);
let dir: string;
let fd: number;
let xx: XXHashAPI;

beforeAll(async () => {
  xx = await hasher();
  dir = await mkdtemp(join(tmpdir(), 'gsync-arriving-'));
  fd = openSync(join(dir, 'file'), 'w+');
  writeSync(fd, bytes, 0, bytes.length, 0);
});

afterAll(async () => {
  closeSync(fd);
  await rm(dir, { recursive: true, force: true });
});

const fromDisk = (index: number): string => hashRange(xx, fd, index * BLOCK, BLOCK, Buffer.alloc(4096));

/** Feeds block `index` in pieces of `size` bytes, in the order `order` gives their numbers. */
function feed(arriving: ArrivingBlocks, index: number, size: number, order: (count: number) => number[]): void {
  const count = Math.ceil(BLOCK / size);
  for (const piece of order(count)) {
    const position = index * BLOCK + piece * size;
    // A reused buffer: what add() keeps must be its own copy.
    const scratch = Buffer.from(bytes.subarray(position, Math.min(position + size, (index + 1) * BLOCK)));
    arriving.add(index, position, scratch);
    scratch.fill(0);
  }
}

const inOrder = (count: number): number[] => Array.from({ length: count }, (_, i) => i);
const ranges = [0, 1, 2].map((index) => ({ index, start: index * BLOCK, length: BLOCK }));

describe('ArrivingBlocks', () => {
  it('gives the hash of the bytes on disk for a block that arrived in order', () => {
    const arriving = new ArrivingBlocks(xx, ranges);
    feed(arriving, 1, 10_000, inOrder);
    expect(arriving.digest(1)).toBe(fromDisk(1));
  });

  it('gives the same hash when pieces arrive out of order, and for blocks interleaved', () => {
    const arriving = new ArrivingBlocks(xx, ranges);
    feed(arriving, 0, 8192, (count) => inOrder(count).reverse());
    feed(arriving, 2, 5000, (count) => inOrder(count).flatMap((i) => (i % 2 === 0 ? [i + 1, i] : [])).filter((i) => i < count));
    expect(arriving.digest(0)).toBe(fromDisk(0));
    expect(arriving.digest(2)).toBe(fromDisk(2));
    expect(fromDisk(0)).not.toBe(fromDisk(2));
  });

  it('gives no hash for a block with a gap, so the caller reads it back', () => {
    const arriving = new ArrivingBlocks(xx, ranges);
    feed(arriving, 1, 4096, (count) => inOrder(count).filter((i) => i !== 3));
    expect(arriving.digest(1)).toBeUndefined();
    expect(arriving.digest(0)).toBeUndefined();
  });
});
