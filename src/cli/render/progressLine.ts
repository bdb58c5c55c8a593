import { formatBytes } from '../../core/format.js';
import { printable } from '../../core/printable.js';
import type { Progress } from '../../pipeline/events.js';

/** What a progress line shows besides the counters: the rate over the last seconds, when known. */
export interface ProgressView extends Progress {
  readonly rate: number | undefined;
}

/** Past this, an ETA says only that the link is (for now) next to idle: shown as unknown. */
const ETA_SHOWN_MAX_S = 100 * 3600;

/** "1:02" or "1:02:03"; "--:--" when no rate is known yet or nothing moves. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0 || seconds >= ETA_SHOWN_MAX_S) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Seconds left at the current rate; undefined while the rate is unknown or zero. */
export function etaSeconds(view: ProgressView): number | undefined {
  if (!view.rate) return undefined;
  return Math.max(0, view.bytesTotal - view.bytesDone) / view.rate;
}

function percent(view: ProgressView): string {
  if (view.bytesTotal <= 0) return '';
  return `${Math.min(100, Math.floor((view.bytesDone / view.bytesTotal) * 100))}%`;
}

/** The counters, without the current file: "12.0 MiB / 64.0 MiB  18%  4.0 MiB/s  ETA 0:13  files 3/7". */
export function progressCounters(view: ProgressView): string {
  const done = Math.min(view.bytesDone, Math.max(view.bytesTotal, view.bytesDone));
  return [
    `${formatBytes(done)} / ${formatBytes(view.bytesTotal)}`,
    percent(view),
    view.rate === undefined ? '' : `${formatBytes(view.rate)}/s`,
    `ETA ${formatEta(etaSeconds(view))}`,
    `files ${view.filesDone}/${view.filesTotal}`,
  ]
    .filter(Boolean)
    .join('  ');
}

/**
 * The live line, cut to `columns - 1` display cells so it never wraps (a wrapped line cannot be
 * redrawn in place): the counters first, then as much of the current file as fits, its end kept.
 */
export function progressLine(view: ProgressView, columns: number): string {
  const width = Math.max(10, columns - 1);
  const counters = progressCounters(view);
  if (displayWidth(counters) >= width) return cutEnd(counters, width);
  const room = width - displayWidth(counters) - 2;
  if (view.current === undefined || room < 8) return counters;
  return `${counters}  ${cutStart(printable(view.current, 4096), room)}`;
}

/** Cells a string takes on a terminal: East Asian wide and fullwidth characters and emoji take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += cellsOf(char);
  return width;
}

/** wcwidth's wide ranges, near enough: a character counted wide that is not only shortens the line. */
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

function cellsOf(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  return WIDE.some(([from, to]) => code >= from && code <= to) ? 2 : 1;
}

/** Keeps the start, marking the cut with "…" (one cell). */
function cutEnd(text: string, width: number): string {
  let out = '';
  let used = 0;
  for (const char of text) {
    if (used + cellsOf(char) > width - 1) return `${out}…`;
    out += char;
    used += cellsOf(char);
  }
  return out;
}

/** Keeps the end of a path (the file's name), marking the cut with "…". */
function cutStart(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  const chars = [...text];
  let kept = chars.length;
  let used = 0;
  while (kept > 0 && used + cellsOf(chars[kept - 1] ?? '') <= width - 1) used += cellsOf(chars[--kept] ?? '');
  return `…${chars.slice(kept).join('')}`;
}
