/**
 * Runs work items with bounded concurrency; work may enqueue more items (a directory enqueues
 * its subdirectories). The first error stops new work, waits for what is running, and is
 * rethrown. An aborted signal stops new work the same way, without an error.
 */
export async function runQueue<T>(
  initial: readonly T[],
  concurrency: number,
  work: (item: T, enqueue: (item: T) => void) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const queue = [...initial];
  let running = 0;
  let failure: { error: unknown } | undefined;

  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!failure && !signal?.aborted && running < concurrency && queue.length > 0) {
        const item = queue.shift() as T;
        running++;
        work(item, (more) => queue.push(more)).then(
          () => settle(),
          (error: unknown) => {
            failure ??= { error };
            settle();
          },
        );
      }
      if (running === 0) resolve();
    };
    const settle = (): void => {
      running--;
      pump();
    };
    signal?.addEventListener('abort', () => {
      if (running === 0) resolve();
    });
    pump();
  });
  if (failure) throw failure.error;
}
