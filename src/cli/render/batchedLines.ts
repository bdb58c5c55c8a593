/** Text written a batch at a time (batchedLines). */
export interface BatchedLines {
  /** Adds text (whole lines) to the batch. */
  add(text: string): void;
  /** Writes what waits, now. */
  flush(): void;
}

/**
 * Output for a pipe or a file, written a batch at a time: a first pull of 20,000 files wrote each
 * file's line in a write() of its own. A batch goes out once this turn of the event loop is over,
 * so a line is never held longer than the work that produced it; the renderer flushes before it
 * writes to stderr (a terminal showing both keeps their order) and when it closes.
 */
export function batchedLines(write: (text: string) => void): BatchedLines {
  let waiting: string[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (waiting.length === 0) return;
    const text = waiting.join('');
    waiting = [];
    write(text);
  };
  return {
    add(text: string): void {
      waiting.push(text);
      scheduled ??= setImmediate(flush);
    },
    flush,
  };
}
