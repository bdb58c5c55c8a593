import type { Progress, RunEvent } from '../../pipeline/events.js';
import { eventLines, type Level } from './lines.js';
import { progressLine } from './progressLine.js';
import { RateWindow } from './rate.js';
import type { Clock, Renderer } from './renderer.js';

export interface TtyOptions {
  readonly level: Level;
  /** Raw text to the terminal (stdout): the live line is drawn here. */
  readonly write: (text: string) => void;
  /** A line on stderr. */
  readonly err: (line: string) => void;
  /** The terminal's width now (it may be resized); undefined when unknown. */
  readonly columns: () => number | undefined;
  readonly now?: Clock;
}

/** At most ten redraws a second: more only costs the terminal, nobody reads faster. */
export const REDRAW_MS = 100;

const CLEAR_LINE = '\r\u001b[K';

/**
 * A terminal: one live line (bytes, rate, ETA, files, the current file) redrawn in place, and
 * cleared before any other line is printed, so lines never mix with it. Lines per file only with
 * -v (the live line says where the run is); problems and notices always; no live line with -q.
 * No colour, so NO_COLOR holds by construction.
 */
export function ttyRenderer(options: TtyOptions): Renderer {
  const now = options.now ?? Date.now;
  const rate = new RateWindow();
  let shown = '';
  let drawnAt: number | undefined;

  const clear = (): void => {
    if (shown === '') return;
    options.write(CLEAR_LINE);
    shown = '';
  };
  const progress = (event: Progress): void => {
    const at = now();
    rate.add(at, event.bytesDone);
    if (options.level === 'quiet' || (drawnAt !== undefined && at - drawnAt < REDRAW_MS)) return;
    const line = progressLine({ ...event, rate: rate.rate() }, options.columns() || 80);
    drawnAt = at;
    if (line === shown) return;
    options.write(`\r${line}\u001b[K`);
    shown = line;
  };
  return {
    emit(event: RunEvent): void {
      if (event.type === 'progress') {
        progress(event);
        return;
      }
      const quietHere = options.level !== 'verbose' && (event.type === 'file' || event.type === 'start');
      const lines = quietHere ? [] : eventLines(event, options.level);
      if (lines.length === 0) return;
      clear();
      for (const line of lines) {
        if (line.stream === 'out') options.write(`${line.text}\n`);
        else options.err(line.text);
      }
    },
    failed(): void {
      clear();
    },
  };
}
