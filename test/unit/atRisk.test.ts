import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { AT_RISK_BYTES, AtRiskBudget } from '../../src/transfer/atRisk.js';

const MiB = 1024 * 1024;
const BLOCK = 4 * MiB;
const never = new AbortController().signal;
const quiet = (): void => undefined;

/** A worker thread holding `bytes` of the budget until told to give them back. */
const HOLDER = `
const { parentPort, workerData } = require('node:worker_threads');
const held = new Int32Array(workerData.buffer);
Atomics.add(held, 0, workerData.bytes);
parentPort.postMessage('holding');
parentPort.once('message', () => {
  Atomics.sub(held, 0, workerData.bytes);
  Atomics.notify(held, 0);
  parentPort.postMessage('gave');
});
`;

describe('AtRiskBudget', () => {
  it('lets blocks be taken up to the bound, and one more once a block is given back', () => {
    const budget = new AtRiskBudget();
    const fit = Math.floor(AT_RISK_BYTES / BLOCK);
    for (let i = 0; i < fit; i++) expect(budget.tryTake(BLOCK), `block ${i + 1}`).toBe(true);
    expect(budget.tryTake(BLOCK)).toBe(false);
    expect(budget.held()).toBe(fit * BLOCK);
    budget.give(BLOCK);
    expect(budget.tryTake(BLOCK)).toBe(true);
    expect(budget.held()).toBe(fit * BLOCK);
  });

  it('lets a block larger than the bound go when nothing else is held, and alone', () => {
    const budget = new AtRiskBudget(undefined, 2 * MiB);
    expect(budget.tryTake(3 * MiB)).toBe(true);
    expect(budget.tryTake(1)).toBe(false);
    budget.give(3 * MiB);
    expect(budget.held()).toBe(0);
  });

  it('is one budget across threads: a wait ends when another thread gives its room back', async () => {
    const budget = new AtRiskBudget(undefined, 8 * MiB);
    const worker = new Worker(HOLDER, { eval: true, workerData: { buffer: budget.buffer, bytes: 6 * MiB } });
    try {
      await once(worker, 'message');
      expect(budget.held()).toBe(6 * MiB);
      let waits = 0;
      const taking = budget.take(BLOCK, never, () => waits++);
      let taken = false;
      void taking.then(() => (taken = true));
      await Promise.resolve();
      expect(taken).toBe(false);
      worker.postMessage('give');
      expect(await taking).toBe(true);
      expect(waits).toBeGreaterThanOrEqual(1);
      expect(budget.held()).toBe(BLOCK);
    } finally {
      await worker.terminate();
    }
  });

  it('ends a wait, taking nothing, once its read is stopped', async () => {
    const budget = new AtRiskBudget(undefined, BLOCK);
    expect(budget.tryTake(BLOCK)).toBe(true);
    const stop = new AbortController();
    const taking = budget.take(BLOCK, stop.signal, quiet);
    stop.abort();
    expect(await taking).toBe(false);
    expect(budget.held()).toBe(BLOCK);
  });
});
