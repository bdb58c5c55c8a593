import { describe, expect, it } from 'vitest';
import { batchFiles, defaultBatchLimits, type BatchLimits } from '../../src/transfer/batch.js';
import type { FileTask } from '../../src/transfer/protocol.js';

/** Files named f0, f1, … with the given sizes. */
function files(sizes: readonly number[]): FileTask[] {
  return sizes.map((size, i) => ({
    path: `f${i}`,
    remotePath: `runs/f${i}`,
    partialPath: `.gsync/partial/f${i}`,
    size,
    mtime: 1_700_000_000 + i,
    mode: 0o644,
  }));
}

/** The batches as lists of file sizes, easy to read in a table. */
function shape(batches: readonly (readonly FileTask[])[]): number[][] {
  return batches.map((batch) => batch.map((file) => file.size));
}

/** Holds for every input: order kept, each file in exactly one batch, limits respected. */
function expectInvariants(input: readonly FileTask[], batches: readonly (readonly FileTask[])[], limits: BatchLimits): void {
  expect(batches.flat()).toStrictEqual(input);
  for (const batch of batches) {
    expect(batch.length).toBeGreaterThan(0);
    expect(batch.length).toBeLessThanOrEqual(limits.maxFiles);
    const bytes = batch.reduce((sum, file) => sum + file.size, 0);
    if (batch.length > 1) expect(bytes).toBeLessThanOrEqual(limits.maxBytes);
    for (const file of batch) {
      if (file.size >= limits.maxBytes) expect(batch).toHaveLength(1);
    }
  }
}

describe('batchFiles: small files travel together, big ones alone, order kept', () => {
  const rows: Array<{ description: string; sizes: number[]; limits: BatchLimits; want: number[][] }> = [
    { description: 'no files, no batches', sizes: [], limits: { maxFiles: 4, maxBytes: 100 }, want: [] },
    { description: 'one small file', sizes: [10], limits: { maxFiles: 4, maxBytes: 100 }, want: [[10]] },
    { description: 'small files under both limits share one batch', sizes: [10, 20, 30], limits: { maxFiles: 4, maxBytes: 100 }, want: [[10, 20, 30]] },
    { description: 'maxFiles splits a run of small files', sizes: [1, 2, 3, 4, 5], limits: { maxFiles: 2, maxBytes: 100 }, want: [[1, 2], [3, 4], [5]] },
    { description: 'maxFiles of 1 gives one file per batch', sizes: [1, 2, 3], limits: { maxFiles: 1, maxBytes: 100 }, want: [[1], [2], [3]] },
    { description: 'maxBytes splits when the next file would go over', sizes: [40, 40, 40], limits: { maxFiles: 10, maxBytes: 100 }, want: [[40, 40], [40]] },
    { description: 'a batch may fill maxBytes exactly', sizes: [50, 50, 1], limits: { maxFiles: 10, maxBytes: 100 }, want: [[50, 50], [1]] },
    { description: 'two files over half of maxBytes go apart', sizes: [60, 60], limits: { maxFiles: 10, maxBytes: 100 }, want: [[60], [60]] },
    { description: 'a file of exactly maxBytes goes alone', sizes: [100], limits: { maxFiles: 10, maxBytes: 100 }, want: [[100]] },
    { description: 'a file above maxBytes goes alone', sizes: [5000, 1], limits: { maxFiles: 10, maxBytes: 100 }, want: [[5000], [1]] },
    { description: 'big files in a row each go alone', sizes: [100, 200, 300], limits: { maxFiles: 10, maxBytes: 100 }, want: [[100], [200], [300]] },
    { description: 'a file just under maxBytes can start a batch', sizes: [99, 1, 1], limits: { maxFiles: 10, maxBytes: 100 }, want: [[99, 1], [1]] },
    { description: 'empty files count against maxFiles only', sizes: [0, 0, 0, 0, 0], limits: { maxFiles: 2, maxBytes: 100 }, want: [[0, 0], [0, 0], [0]] },
    // The big file must not overtake the small file before it: flattening the batches gives the input order.
    { description: 'a big file between small ones closes the batch before it', sizes: [10, 100, 10], limits: { maxFiles: 10, maxBytes: 100 }, want: [[10], [100], [10]] },
    { description: 'a big file after a full run of small ones', sizes: [30, 30, 30, 500, 30], limits: { maxFiles: 10, maxBytes: 100 }, want: [[30, 30, 30], [500], [30]] },
  ];
  it.each(rows)('$description', ({ sizes, limits, want }) => {
    const input = files(sizes);
    const batches = batchFiles(input, limits);
    expect(shape(batches)).toStrictEqual(want);
    expectInvariants(input, batches, limits);
  });

  it('uses the default limits when none are given', () => {
    const input = files(Array.from({ length: defaultBatchLimits.maxFiles + 1 }, () => 1));
    const batches = batchFiles(input);
    expect(batches.map((b) => b.length)).toStrictEqual([defaultBatchLimits.maxFiles, 1]);
  });

  it('keeps the invariants on many mixed inputs', () => {
    // A fixed LCG: the same inputs every run, so a failure is reproducible.
    let seed = 12345;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    for (let round = 0; round < 300; round++) {
      const limits: BatchLimits = { maxFiles: 1 + (next() % 6), maxBytes: 1 + (next() % 200) };
      const sizes = Array.from({ length: next() % 30 }, () => (next() % 4 === 0 ? next() % 400 : next() % 60));
      const input = files(sizes);
      expectInvariants(input, batchFiles(input, limits), limits);
    }
  });
});
