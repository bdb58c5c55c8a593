import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TarLane, type TarLaneLimits, type TarOutcome } from '../../src/pipeline/tarLane.js';
import type { TransferPool } from '../../src/transfer/pool.js';
import type { FileTask, TarTask, TaskResult } from '../../src/transfer/protocol.js';

const limits: TarLaneLimits = { maxFiles: 100, maxBytes: 1024 * 1024, inFlight: 2, lingerMs: 5, minFiles: 4, companyMs: 200 };

/** The pool's side of the lane: every tar task it is handed, each fetching all its files. */
class TarPool {
  readonly tasks: TarTask[] = [];
  readonly pool = {
    run: (task: TarTask): Promise<TaskResult> => {
      this.tasks.push(task);
      return Promise.resolve({ kind: 'done', files: task.files.map((f) => ({ kind: 'fetched', path: f.path, bytes: f.size })), tarUsable: true });
    },
  } as unknown as TransferPool;
}

function files(dir: string, count: number): FileTask[] {
  return Array.from({ length: count }, (_, i) => ({ path: `${dir}/f${i}`, remotePath: `/r/${dir}/f${i}`, partialPath: `/p/${dir}-${i}`, size: 100, mtime: 0, mode: 0o644 }));
}

/** What the lane said of `fetching` once `ms` have passed on the fake clock (several lingers), or 'waiting'. */
async function settledWithin<T>(fetching: Promise<T>, ms: number): Promise<T | 'waiting'> {
  let said: T | 'waiting' = 'waiting';
  void fetching.then((outcome) => {
    said = outcome;
  });
  await vi.advanceTimersByTimeAsync(ms);
  return said;
}

/** The paths tar fetched once `fetching` settled, or 'waiting' while it has not. */
function fetchedBy(outcome: TarOutcome | 'waiting'): string[] | 'waiting' {
  return outcome === 'waiting' ? outcome : [...outcome.fetched];
}

describe('TarLane', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps too few files for a tar while a directory may still add to them, and gives them to SFTP once none can', async () => {
    const pool = new TarPool();
    const lane = new TarLane(() => pool.pool, limits);
    const root = lane.expect();
    const sub = lane.expect();
    const fetching = lane.fetch(files('root', 2));
    root();
    expect(await settledWithin(fetching, 40)).toBe('waiting');
    sub();
    expect(fetchedBy(await settledWithin(fetching, 40))).toEqual([]);
    expect(pool.tasks).toEqual([]);
  });

  it('waits no longer than companyMs for a directory that never hands over (its listing stalled): SFTP takes the files', async () => {
    const pool = new TarPool();
    const lane = new TarLane(() => pool.pool, limits);
    const root = lane.expect();
    lane.expect();
    const fetching = lane.fetch(files('root', 2));
    root();
    expect(await settledWithin(fetching, 150)).toBe('waiting');
    expect(fetchedBy(await settledWithin(fetching, 100))).toEqual([]);
    expect(pool.tasks).toEqual([]);
  });

  it('sends the files of several directories as one tar once there are enough, without waiting for the rest of the walk', async () => {
    const pool = new TarPool();
    const lane = new TarLane(() => pool.pool, limits);
    const [a, b] = [lane.expect(), lane.expect()];
    lane.expect(); // a directory that never hands over while this test runs
    const first = lane.fetch(files('a', 2));
    a();
    const second = lane.fetch(files('b', 2));
    b();
    const [one, two] = [await settledWithin(first, 40), await settledWithin(second, 0)];
    expect(fetchedBy(one)).toEqual(['a/f0', 'a/f1']);
    expect(fetchedBy(two)).toEqual(['b/f0', 'b/f1']);
    expect(pool.tasks.map((t) => t.files.length)).toEqual([4]);
  });

  it('lets go of what waits when the run stops, though directories were still to come', async () => {
    const pool = new TarPool();
    const lane = new TarLane(() => pool.pool, limits);
    lane.expect();
    const fetching = lane.fetch(files('a', 2));
    expect(await settledWithin(fetching, 20)).toBe('waiting');
    lane.stop();
    expect(fetchedBy(await settledWithin(fetching, 40))).toEqual([]);
    expect(pool.tasks).toEqual([]);
  });
});
