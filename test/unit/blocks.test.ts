import { describe, expect, it } from 'vitest';
import { blockCount, blockRange, canResume, percentDone, splitBlocks, BLOCK_SIZE, type PartialRecord } from '../../src/core/blocks.js';

describe('blocks', () => {
  it.each([
    [0, 0],
    [1, 1],
    [BLOCK_SIZE, 1],
    [BLOCK_SIZE + 1, 2],
    [10 * BLOCK_SIZE, 10],
  ])('a file of %i bytes has %i blocks', (size, want) => expect(blockCount(size)).toBe(want));

  it('the last block is short, and none runs past the end', () => {
    const size = 2 * BLOCK_SIZE + 5;
    expect(blockRange(size, 0)).toStrictEqual({ index: 0, start: 0, length: BLOCK_SIZE });
    expect(blockRange(size, 2)).toStrictEqual({ index: 2, start: 2 * BLOCK_SIZE, length: 5 });
    expect(blockRange(size, 3).length).toBe(0);
  });

  const partial: PartialRecord = { path: 'a', name: 'b-1', size: 100, mtime: 7, blockSize: BLOCK_SIZE, blocks: new Map() };
  it.each([
    [{ size: 100, mtime: 7 }, true],
    [{ size: 101, mtime: 7 }, false],
    [{ size: 100, mtime: 8 }, false],
  ])('a partial resumes only for the same remote file: %o → %s', (remote, want) => expect(canResume(partial, remote)).toBe(want));

  it('a partial cut with another block size is not resumed', () => {
    expect(canResume({ ...partial, blockSize: BLOCK_SIZE / 2 }, { size: 100, mtime: 7 })).toBe(false);
  });

  it.each([
    [{ size: 0, blockSize: BLOCK_SIZE, blocksDone: 0 }, 100],
    [{ size: 10 * BLOCK_SIZE, blockSize: BLOCK_SIZE, blocksDone: 5 }, 50],
    [{ size: 3 * BLOCK_SIZE - 1, blockSize: BLOCK_SIZE, blocksDone: 3 }, 100],
    [{ size: 3 * BLOCK_SIZE, blockSize: BLOCK_SIZE, blocksDone: 1 }, 33],
  ])('percentDone(%o) = %i', (input, want) => expect(percentDone(input)).toBe(want));
});

describe('splitBlocks: parts of one file for several connections', () => {
  it.each([
    { blocks: 64, connections: 1, want: [[0, 64]] },
    { blocks: 64, connections: 3, want: [[0, 21], [21, 42], [42, 64]] },
    { blocks: 64, connections: 16, want: [[0, 8], [8, 16], [16, 24], [24, 32], [32, 40], [40, 48], [48, 56], [56, 64]] },
    { blocks: 10, connections: 4, want: [[0, 10]] },
    { blocks: 3, connections: 4, want: [[0, 3]] },
    { blocks: 0, connections: 2, want: [[0, 0]] },
  ])('$blocks blocks over $connections connections', ({ blocks, connections, want }) => {
    const spans = splitBlocks(blocks, connections);
    expect(spans.map((s) => [s.first, s.end])).toStrictEqual(want);
  });
});
