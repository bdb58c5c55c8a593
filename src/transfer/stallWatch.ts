/**
 * --timeout for a worker's connection: while a task runs, data must keep arriving. ssh2's
 * keepalives are answered by sshd even when its sftp-server is stuck, and a proxy that stalls
 * keeps the socket open, so neither notices; this does, and tears the connection down.
 */
export class StallWatch {
  readonly #timeoutMs: number;
  #lastData = 0;
  #stalled = false;
  /** Waits in progress on the run's own --bwlimit budget. */
  #holding = 0;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Bytes arrived. */
  fed(): void {
    this.#lastData = Date.now();
  }

  /**
   * Waits for `wait` without counting the time as a stall: the run itself holds its READs back
   * (--bwlimit), the server is not late. The clock starts again when the wait ends.
   */
  async holding<T>(wait: Promise<T>): Promise<T> {
    this.#holding++;
    try {
      return await wait;
    } finally {
      this.#holding--;
      this.fed();
    }
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Watches while `work` runs; `tearDown` is called once if no data came for the timeout. */
  async guard<T>(work: () => Promise<T>, tearDown: () => void): Promise<T> {
    this.#stalled = false;
    this.fed();
    const timer = setInterval(() => {
      if (this.#holding > 0 || Date.now() - this.#lastData < this.#timeoutMs) return;
      clearInterval(timer);
      this.#stalled = true;
      tearDown();
    }, Math.min(1000, Math.max(50, this.#timeoutMs / 4)));
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }
}
