/**
 * Runs work items with bounded concurrency; work may enqueue more items (a directory enqueues
 * its subdirectories). An item holds one of `concurrency` slots until its work settles, or until
 * it calls `release` (its own part done, the rest only waiting): then the next item may start,
 * with at most `concurrency` × BEHIND_PER_SLOT released items not settled yet, and the weights
 * they were released with (what each still holds: a directory's files on their way) adding up
 * to less than `maxBehindWeight`. The first error stops new work, waits for all that started,
 * and is rethrown. An aborted signal stops new work the same way, without an error.
 */
export async function runQueue<T>(
  initial: readonly T[],
  concurrency: number,
  work: (item: T, enqueue: (item: T) => void, release: (weight?: number) => void) => Promise<void>,
  signal?: AbortSignal,
  maxBehindWeight = Infinity,
): Promise<void> {
  const queue = [...initial];
  /** Items holding a slot. */
  let holding = 0;
  /** Items started and not settled, holding a slot or released. */
  let started = 0;
  /** The weights of the released items not settled yet. */
  let behind = 0;
  const maxStarted = concurrency * (1 + BEHIND_PER_SLOT);
  let failure: { error: unknown } | undefined;

  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!failure && !signal?.aborted && holding < concurrency && started < maxStarted && behind < maxBehindWeight && queue.length > 0) {
        const item = queue.shift() as T;
        holding++;
        started++;
        let held = true;
        let weight = 0;
        const release = (releasedWith = 0): void => {
          if (!held) return;
          held = false;
          holding--;
          weight = releasedWith;
          behind += weight;
          // Not from inside the caller's own work: the next item starts once that has returned.
          queueMicrotask(pump);
        };
        const settle = (): void => {
          started--;
          release();
          behind -= weight;
          pump();
        };
        work(item, (more) => queue.push(more), release).then(settle, (error: unknown) => {
          failure ??= { error };
          settle();
        });
      }
      if (started === 0) resolve();
    };
    signal?.addEventListener('abort', () => {
      if (started === 0) resolve();
    });
    pump();
  });
  if (failure) throw failure.error;
}

/**
 * Released items (a directory whose files are all handed over, waiting for them to land) that
 * may wait per slot: the walk lists on while they do, and what they hold in memory stays bounded.
 */
const BEHIND_PER_SLOT = 8;
