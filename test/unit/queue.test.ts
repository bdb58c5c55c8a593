import { describe, expect, it } from 'vitest';
import { runQueue } from '../../src/schedule/queue.js';

/** One call of `work` that the test ends by hand. */
interface Started<T> {
  readonly item: T;
  readonly enqueue: (item: T) => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A `work` function whose calls never end on their own: each call is recorded and the test
 * resolves or rejects it. `running` and `maxRunning` are counted as calls start and end.
 */
class ManualWork<T> {
  readonly started: Started<T>[] = [];
  running = 0;
  maxRunning = 0;
  private readonly waiters: Array<{ count: number; wake: () => void }> = [];

  readonly work = (item: T, enqueue: (item: T) => void): Promise<void> => {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    return new Promise<void>((resolve, reject) => {
      const end = (): void => {
        this.running--;
      };
      this.started.push({
        item,
        enqueue,
        resolve: () => {
          end();
          resolve();
        },
        reject: (error) => {
          end();
          reject(error);
        },
      });
      for (const waiter of this.waiters.filter((w) => this.started.length >= w.count)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.wake();
      }
    });
  };

  /** Resolves once `count` calls have started (an event, not a timer). */
  untilStarted(count: number): Promise<void> {
    if (this.started.length >= count) return Promise.resolve();
    return new Promise((wake) => this.waiters.push({ count, wake }));
  }

  get items(): T[] {
    return this.started.map((s) => s.item);
  }
}

/** Lets every pending promise callback and one event-loop turn run: whatever could start has. */
function settleTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Tracks whether a promise has settled, without awaiting it. */
function watch(promise: Promise<void>): { readonly settled: () => boolean; readonly done: Promise<void> } {
  let settled = false;
  const done = promise.finally(() => {
    settled = true;
  });
  done.catch(() => undefined);
  return { settled: () => settled, done };
}

describe('runQueue: bounded concurrency', () => {
  const rows: Array<{ description: string; items: number; concurrency: number }> = [
    { description: 'one at a time', items: 6, concurrency: 1 },
    { description: 'three at a time over ten items', items: 10, concurrency: 3 },
    { description: 'more slots than items', items: 2, concurrency: 5 },
    { description: 'slots equal to items', items: 4, concurrency: 4 },
  ];
  it.each(rows)('$description: never more than the limit, all items run in order', async ({ items, concurrency }) => {
    const manual = new ManualWork<number>();
    const initial = Array.from({ length: items }, (_, i) => i);
    const run = watch(runQueue(initial, concurrency, manual.work));
    const full = Math.min(items, concurrency);
    await manual.untilStarted(full);
    await settleTurn();
    expect(manual.started).toHaveLength(full);
    // Finish the oldest running call each time: exactly one more may start.
    for (let finished = 0; finished < items; finished++) {
      expect(manual.running).toBeLessThanOrEqual(concurrency);
      manual.started[finished]?.resolve();
      const expected = Math.min(items, full + finished + 1);
      await manual.untilStarted(expected);
      await settleTurn();
      expect(manual.started).toHaveLength(expected);
    }
    await run.done;
    expect(manual.maxRunning).toBe(full);
    expect(manual.items).toStrictEqual(initial);
    expect(manual.running).toBe(0);
  });

  it('no items: resolves without calling work', async () => {
    const manual = new ManualWork<number>();
    await runQueue([], 3, manual.work);
    expect(manual.started).toHaveLength(0);
  });

  it('finishing calls out of order still never exceeds the limit', async () => {
    const manual = new ManualWork<number>();
    const run = watch(runQueue([0, 1, 2, 3, 4, 5, 6, 7], 3, manual.work));
    await manual.untilStarted(3);
    for (const index of [2, 0, 4, 1, 3, 6, 5, 7]) {
      await manual.untilStarted(Math.min(8, index + 1));
      manual.started[index]?.resolve();
      await settleTurn();
      expect(manual.running).toBeLessThanOrEqual(3);
    }
    await run.done;
    expect(manual.maxRunning).toBe(3);
    expect(manual.items.slice().sort()).toStrictEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('runQueue: work enqueues more work', () => {
  const rows: Array<{ description: string; concurrency: number; tree: Record<string, string[]>; want: string[] }> = [
    { description: 'a directory enqueues its subdirectories', concurrency: 2, tree: { '': ['a', 'b'], a: ['a/x'], b: [], 'a/x': [] }, want: ['', 'a', 'b', 'a/x'] },
    { description: 'a deep chain, one at a time', concurrency: 1, tree: { '': ['1'], '1': ['1/2'], '1/2': ['1/2/3'], '1/2/3': [] }, want: ['', '1', '1/2', '1/2/3'] },
    { description: 'a wide fan-out', concurrency: 3, tree: { '': ['a', 'b', 'c', 'd', 'e'], a: [], b: [], c: [], d: [], e: [] }, want: ['', 'a', 'b', 'c', 'd', 'e'] },
  ];
  it.each(rows)('$description: every enqueued item runs once', async ({ concurrency, tree, want }) => {
    const manual = new ManualWork<string>();
    const run = watch(runQueue([''], concurrency, manual.work));
    // Finish each call as it starts, enqueuing its children first.
    for (let next = 0; next < want.length; next++) {
      await manual.untilStarted(next + 1);
      const call = manual.started[next];
      if (!call) throw new Error('unreachable');
      for (const child of tree[call.item] ?? []) call.enqueue(child);
      expect(manual.running).toBeLessThanOrEqual(concurrency);
      call.resolve();
    }
    await run.done;
    expect(manual.items.slice().sort()).toStrictEqual(want.slice().sort());
    expect(manual.maxRunning).toBeLessThanOrEqual(concurrency);
  });
});

describe('runQueue: the first error stops new work', () => {
  it('rethrows the first error only after running work has settled, and starts nothing new', async () => {
    const manual = new ManualWork<number>();
    const run = watch(runQueue([0, 1, 2, 3, 4], 2, manual.work));
    await manual.untilStarted(2);
    const first = new Error('disk full');
    manual.started[0]?.reject(first);
    await settleTurn();
    expect(manual.items).toStrictEqual([0, 1]);
    expect(run.settled()).toBe(false);
    manual.started[1]?.resolve();
    await expect(run.done).rejects.toBe(first);
    expect(manual.items).toStrictEqual([0, 1]);
  });

  it('a second error while settling does not replace the first', async () => {
    const manual = new ManualWork<number>();
    const run = watch(runQueue([0, 1, 2], 2, manual.work));
    await manual.untilStarted(2);
    const first = new Error('first');
    manual.started[1]?.reject(first);
    await settleTurn();
    expect(run.settled()).toBe(false);
    manual.started[0]?.reject(new Error('second'));
    await expect(run.done).rejects.toBe(first);
    expect(manual.items).toStrictEqual([0, 1]);
  });

  it('items enqueued after the error never start', async () => {
    const manual = new ManualWork<string>();
    const run = watch(runQueue(['a', 'b'], 2, manual.work));
    await manual.untilStarted(2);
    const failure = new Error('boom');
    manual.started[0]?.reject(failure);
    await settleTurn();
    manual.started[1]?.enqueue('late');
    manual.started[1]?.resolve();
    await expect(run.done).rejects.toBe(failure);
    expect(manual.items).toStrictEqual(['a', 'b']);
  });
});

describe('runQueue: abort stops new work without an error', () => {
  it('an abort while work runs waits for it, starts nothing new and resolves', async () => {
    const manual = new ManualWork<number>();
    const controller = new AbortController();
    const run = watch(runQueue([0, 1, 2, 3], 2, manual.work, controller.signal));
    await manual.untilStarted(2);
    controller.abort();
    manual.started[0]?.resolve();
    await settleTurn();
    expect(manual.items).toStrictEqual([0, 1]);
    expect(run.settled()).toBe(false);
    manual.started[1]?.resolve();
    await expect(run.done).resolves.toBeUndefined();
    expect(manual.items).toStrictEqual([0, 1]);
  });

  it('an already-aborted signal runs nothing', async () => {
    const manual = new ManualWork<number>();
    const controller = new AbortController();
    controller.abort();
    await runQueue([0, 1, 2], 2, manual.work, controller.signal);
    expect(manual.started).toHaveLength(0);
  });
});

describe('runQueue: an item that releases its slot', () => {
  /** Work that releases its slot (twice: the second call must count for nothing) and then waits to be ended. */
  function releasing(): { started: number[]; end: Array<() => void>; work: (item: number, enqueue: (item: number) => void, release: () => void) => Promise<void> } {
    const started: number[] = [];
    const end: Array<() => void> = [];
    return {
      started,
      end,
      work: (item, _enqueue, release) =>
        new Promise<void>((resolve) => {
          started.push(item);
          end.push(resolve);
          release();
          release();
        }),
    };
  }

  it('lets the next items start while it waits, up to 8 released items per slot, and the run ends when all have ended', async () => {
    const items = Array.from({ length: 30 }, (_, i) => i);
    const manual = releasing();
    const run = watch(runQueue(items, 2, manual.work));
    await settleTurn();
    // 2 slots, each with 8 released items behind it: 18 started, none ended.
    expect(manual.started).toStrictEqual(items.slice(0, 18));
    manual.end[0]?.();
    await settleTurn();
    expect(manual.started).toStrictEqual(items.slice(0, 19));
    expect(run.settled()).toBe(false);
    for (let i = 1; i < 30; i++) {
      manual.end[i]?.();
      await settleTurn();
    }
    await run.done;
    expect(manual.started).toStrictEqual(items);
  });

  it('the weights released items wait with bound them too: no item starts while they reach the limit', async () => {
    const items = Array.from({ length: 12 }, (_, i) => i);
    const started: number[] = [];
    const end: Array<() => void> = [];
    const work = (item: number, _enqueue: (item: number) => void, release: (weight?: number) => void): Promise<void> =>
      new Promise<void>((resolve) => {
        started.push(item);
        end.push(resolve);
        release(4);
      });
    const run = watch(runQueue(items, 2, work, undefined, 10));
    await settleTurn();
    // Each releases as it starts: 4, 8, then 12 behind, and nothing more starts though both slots are free.
    expect(started).toStrictEqual([0, 1, 2]);
    end[0]?.();
    await settleTurn();
    // 8 behind: one more starts, and 12 again.
    expect(started).toStrictEqual([0, 1, 2, 3]);
    end[1]?.();
    await settleTurn();
    expect(started).toStrictEqual([0, 1, 2, 3, 4]);
    for (let i = 2; i < 12; i++) {
      end[i]?.();
      await settleTurn();
    }
    await run.done;
    expect(started).toStrictEqual(items);
  });

  it('without a release, an item holds its slot until it ends', async () => {
    const manual = new ManualWork<number>();
    const run = watch(runQueue([0, 1, 2, 3], 2, manual.work));
    await settleTurn();
    expect(manual.items).toStrictEqual([0, 1]);
    manual.started[0]?.resolve();
    await settleTurn();
    expect(manual.items).toStrictEqual([0, 1, 2]);
    for (const s of manual.started.slice(1)) s.resolve();
    await settleTurn();
    manual.started[3]?.resolve();
    await run.done;
  });
});
