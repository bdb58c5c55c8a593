/**
 * Runs work items with bounded concurrency; work may enqueue more items (a directory enqueues
 * its subdirectories). An item holds one of `concurrency` slots until its work settles, or until
 * it calls `release` (its own part done, the rest only waiting): then the next item may start,
 * with at most `concurrency` × BEHIND_PER_SLOT released items not settled yet. The first error
 * stops new work, waits for all that started, and is rethrown. An aborted signal stops new work
 * the same way, without an error.
 */
export async function runQueue<T>(
  initial: readonly T[],
  concurrency: number,
  work: (item: T, enqueue: (item: T) => void, release: () => void) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const queue = [...initial];
  /** Items holding a slot. */
  let holding = 0;
  /** Items started and not settled, holding a slot or released. */
  let started = 0;
  const maxStarted = concurrency * (1 + BEHIND_PER_SLOT);
  let failure: { error: unknown } | undefined;

  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!failure && !signal?.aborted && holding < concurrency && started < maxStarted && queue.length > 0) {
        const item = queue.shift() as T;
        holding++;
        started++;
        let held = true;
        const release = (): void => {
          if (!held) return;
          held = false;
          holding--;
          // Not from inside the caller's own work: the next item starts once that has returned.
          queueMicrotask(pump);
        };
        work(item, (more) => queue.push(more), release).then(
          () => settle(release),
          (error: unknown) => {
            failure ??= { error };
            settle(release);
          },
        );
      }
      if (started === 0) resolve();
    };
    const settle = (release: () => void): void => {
      started--;
      release();
      pump();
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
