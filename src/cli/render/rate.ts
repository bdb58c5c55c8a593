/** How far back the rate looks: long enough to smooth bursts, short enough to show a stall within seconds. */
const WINDOW_MS = 5_000;
const MIN_SPAN_MS = 1_000;

/**
 * Bytes per second over the last few seconds, from (time, bytes so far) samples. Pure: the caller
 * says what time it is, so a test drives it with made-up clocks.
 */
export class RateWindow {
  readonly #samples: Array<{ at: number; bytes: number }> = [];
  readonly #windowMs: number;

  constructor(windowMs = WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  add(at: number, bytes: number): void {
    this.#samples.push({ at, bytes });
    // One sample older than the window stays: it anchors the span that reaches back to the window's start.
    while (this.#samples.length > 2 && (this.#samples[1]?.at ?? at) <= at - this.#windowMs) this.#samples.shift();
  }

  /** Bytes per second, or undefined before a second of samples is known (a rate over less is mostly noise). */
  rate(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.at - first.at < MIN_SPAN_MS) return undefined;
    return Math.max(0, last.bytes - first.bytes) / ((last.at - first.at) / 1000);
  }
}
