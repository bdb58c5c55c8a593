import { once } from 'node:events';
import { Worker, type MessagePort } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { BlockProgress } from '../../src/pipeline/blockProgress.js';
import { AtRiskBudget } from '../../src/transfer/atRisk.js';
import type { BlockRecord } from '../../src/transfer/protocol.js';

const MiB = 1024 * 1024;
const block = (index: number): BlockRecord => ({ index, hash: index.toString(16).padStart(16, '0') });

/** A budget with `mib` MiB held, as a task's blocks hold it. */
function holding(mib: number): AtRiskBudget {
  const budget = new AtRiskBudget();
  expect(budget.tryTake(mib * MiB)).toBe(true);
  return budget;
}

function recorder(): { record: (blocks: readonly BlockRecord[]) => void; indexes: number[] } {
  const indexes: number[] = [];
  return { record: (blocks) => indexes.push(...blocks.map((b) => b.index)), indexes };
}

/** A worker that reports `groups` groups of blocks on the port it is given, then says it is done on its own port, as a task's result comes back. */
const REPORTER = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.on('message', (port) => {
  for (let g = 0; g < workerData.groups; g++) port.postMessage({ blocks: [{ index: g, hash: '0' }], room: 1048576 });
  parentPort.postMessage('done');
});
`;

describe('BlockProgress', () => {
  it('records groups still queued when the task ends: the last ones a task reports are not lost', () => {
    const { record, indexes } = recorder();
    const budget = holding(12);
    const progress = new BlockProgress(record, budget);
    // Posted and not yet delivered: the port's event has not had a turn.
    progress.port.postMessage({ blocks: [block(0), block(1)], room: 8 * MiB });
    progress.port.postMessage({ blocks: [block(2)], room: 4 * MiB });
    expect(progress.finish()).toBeUndefined();
    expect(indexes).toStrictEqual([0, 1, 2]);
    expect(budget.held()).toBe(0);
  });

  it('records every group a worker thread reported before its result, though the result came first on another port', async () => {
    const worker = new Worker(REPORTER, { eval: true, workerData: { groups: 3 } });
    try {
      for (let run = 0; run < 20; run++) {
        const { record, indexes } = recorder();
        const budget = holding(3);
        const progress = new BlockProgress(record, budget);
        const port: MessagePort = progress.port;
        const done = once(worker, 'message');
        worker.postMessage(port, [port]);
        await done;
        progress.finish();
        expect(indexes, `run ${run}`).toStrictEqual([0, 1, 2]);
        expect(budget.held(), `run ${run}`).toBe(0);
      }
    } finally {
      await worker.terminate();
    }
  });

  it('records each group once, whether it landed as it came or was taken at the end', async () => {
    const { record, indexes } = recorder();
    const budget = holding(8);
    const progress = new BlockProgress(record, budget);
    progress.port.postMessage({ blocks: [block(0)], room: 4 * MiB });
    await vi.waitFor(() => expect(indexes).toStrictEqual([0]));
    // The room comes back once the block is recorded, not before.
    expect(budget.held()).toBe(4 * MiB);
    progress.port.postMessage({ blocks: [block(1)], room: 4 * MiB });
    progress.finish();
    progress.finish();
    expect(indexes).toStrictEqual([0, 1]);
    expect(budget.held()).toBe(0);
  });

  it('keeps the first failure to record and records nothing after it, giving the room back all the same; a malformed message is passed over', () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const seen: number[] = [];
    const budget = holding(12);
    const progress = new BlockProgress((blocks) => {
      seen.push(...blocks.map((b) => b.index));
      if (blocks.some((b) => b.index === 1)) throw full;
    }, budget);
    progress.port.postMessage({ nothing: true, room: 4 * MiB });
    progress.port.postMessage({ blocks: [block(0)], room: 4 * MiB });
    progress.port.postMessage({ blocks: [block(1)], room: 4 * MiB });
    progress.port.postMessage({ blocks: [block(2)], room: -1 });
    expect(progress.finish()).toBe(full);
    expect(seen).toStrictEqual([0, 1]);
    // Blocks 0 and 1 gave theirs back; a message that is no report, or names no room, gives nothing.
    expect(budget.held()).toBe(4 * MiB);
  });
});
