import type { Progress, RunEvent } from '../../pipeline/events.js';
import { eventLines, type Level } from './lines.js';
import { progressCounters } from './progressLine.js';
import { RateWindow } from './rate.js';
import type { Clock, Renderer } from './renderer.js';

export interface PlainOptions {
  readonly level: Level;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly now?: Clock;
  /** How often a progress line is printed while the run goes on (default a minute, as rclone's stats). */
  readonly progressEveryMs?: number;
}

const PROGRESS_EVERY_MS = 60_000;

/**
 * Plain lines, for pipes, cron and log files: a line per file as it lands, problems and notices on
 * stderr, a progress line every minute, the closing summary on stdout. Nothing is redrawn.
 */
export function plainRenderer(options: PlainOptions): Renderer {
  const now = options.now ?? Date.now;
  const every = options.progressEveryMs ?? PROGRESS_EVERY_MS;
  const rate = new RateWindow();
  let lastPrinted: number | undefined;
  const progress = (event: Progress): void => {
    const at = now();
    rate.add(at, event.bytesDone);
    lastPrinted ??= at;
    if (options.level === 'quiet' || at - lastPrinted < every) return;
    lastPrinted = at;
    options.out(`progress: ${progressCounters({ ...event, rate: rate.rate() })}`);
  };
  return {
    emit(event: RunEvent): void {
      if (event.type === 'progress') {
        progress(event);
        return;
      }
      for (const line of eventLines(event, options.level)) (line.stream === 'out' ? options.out : options.err)(line.text);
    },
    failed(): void {
      // The command prints the failure itself (on stderr, with its hint).
    },
  };
}
