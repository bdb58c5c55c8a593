import type { ByteMeter } from '../transfer/meter.js';
import type { EventSink } from './events.js';
import type { Tally } from './tally.js';

/**
 * Ten a second is as often as a person can read a redrawn line; renderers that want fewer
 * (a log line a minute, a JSON event a second) drop the rest.
 */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Sends 'progress' events on a timer while a walk runs. It only reads counters (the tally, the
 * shared byte meter, the pool's oldest task), so the transfer path pays nothing for it.
 */
export class ProgressTicker {
  readonly #timer: NodeJS.Timeout;

  constructor(sink: EventSink, tally: Tally, meter: ByteMeter, current: () => string | undefined, intervalMs = PROGRESS_INTERVAL_MS) {
    this.#timer = setInterval(() => {
      sink.emit({
        type: 'progress',
        bytesDone: meter.payload(),
        bytesTotal: Math.max(0, tally.bytesPlanned),
        filesDone: tally.filesTransferred,
        filesTotal: tally.filesPlanned,
        bytesReceived: meter.wire(),
        current: current(),
      });
    }, intervalMs);
    // Never what keeps the process alive.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
