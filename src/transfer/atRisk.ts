/**
 * What a kill may cost the run: bytes of blocks asked of the server or arrived, and not yet
 * recorded. Issue 6 allows 16 MiB a kill, whatever the worker count; the rest is room for
 * SSH framing and the bytes that cross while the kill lands. It caps a long link, whatever the
 * connection count: 1 GiB over 50 ms each way came at ~75 MiB/s (12 MiB in flight, plus each
 * block's record).
 */
export const AT_RISK_BYTES = 12 * 1024 * 1024;

/** How long a wait for room goes before it looks again: a notify missed between threads costs this, never a hang. */
const RECHECK_MS = 200;

/**
 * The run's one budget of bytes at risk, shared by every block task on every thread (the main
 * lane and each worker) through one SharedArrayBuffer. It used to be per task: with 3 workers
 * each fetching a part of one file (the default on 4 cores), a kill re-sent 21.9 MiB. A block is
 * taken whole before its first READ and given back once recorded: a block holding room never
 * needs more to finish, so tasks waiting on each other cannot deadlock.
 */
export class AtRiskBudget {
  readonly buffer: SharedArrayBuffer;
  readonly #held: Int32Array;
  readonly #limit: number;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT), limit = AT_RISK_BYTES) {
    this.buffer = buffer;
    this.#held = new Int32Array(buffer);
    this.#limit = limit;
  }

  /** Takes `bytes` if they fit (or if nothing is held: a block larger than the budget still goes, alone). */
  tryTake(bytes: number): boolean {
    for (;;) {
      const held = Atomics.load(this.#held, 0);
      if (held > 0 && held + bytes > this.#limit) return false;
      if (Atomics.compareExchange(this.#held, 0, held, held + bytes) === held) return true;
    }
  }

  /**
   * Waits until `bytes` fit and takes them; false, having taken nothing, if `signal` is aborted
   * first. `waiting` is called each time room is short: a wait on the run's own budget may be no
   * stall of the server's, and the caller's stall watch may be told so.
   */
  async take(bytes: number, signal: AbortSignal, waiting: () => void): Promise<boolean> {
    while (!signal.aborted) {
      const held = Atomics.load(this.#held, 0);
      if (this.tryTake(bytes)) return true;
      waiting();
      const wait = Atomics.waitAsync(this.#held, 0, held, RECHECK_MS);
      if (wait.async) await abortable(wait.value, signal);
    }
    return false;
  }

  give(bytes: number): void {
    if (bytes <= 0) return;
    Atomics.sub(this.#held, 0, bytes);
    Atomics.notify(this.#held, 0);
  }

  /** Bytes held now, by every task of the run. */
  held(): number {
    return Atomics.load(this.#held, 0);
  }
}

function abortable(wait: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve(undefined);
    };
    signal.addEventListener('abort', done, { once: true });
    void wait.then(done);
  });
}
