import type { Problem, RunSummary } from '../../core/types.js';
import type { DryRunSummary, PlanItem } from '../../pipeline/events.js';
import { printable } from '../../core/printable.js';
import { formatBytes, formatDuration, plural } from '../../core/format.js';

/** Shown at the end of a run, after the summary; `gsync status` lists them all. */
const PROBLEMS_LISTED = 50;

/**
 * The closing block: what was done, what --delete removed, the paths left out, and, last,
 * rsync's two lines (what came over the wire, and how much smaller that was than the data it
 * brought up to date).
 */
export function summaryLines(s: RunSummary): string[] {
  return [summaryLine(s), ...deletedLines(s.deleted), ...problemLines(s.problems), ...receivedLines(s)];
}

/** What --delete removed, after the summary line; `gsync status` keeps the record. */
export function deletedLines(deleted: readonly string[]): string[] {
  const lines = deleted.slice(0, PROBLEMS_LISTED).map((path) => `  deleted: ${printable(path)}`);
  if (deleted.length > PROBLEMS_LISTED) lines.push(`  … and ${deleted.length - PROBLEMS_LISTED} more deleted`);
  return lines;
}

/** A --dry-run line, rsync -i style: the change, the path, then what matters about it. */
export function planLine(item: PlanItem): string {
  const size = item.bytes === undefined ? '' : ` (${formatBytes(item.bytes)})`;
  const detail = item.detail === undefined ? '' : ` ${printable(item.detail)}`;
  return `${item.change.padEnd(8)} ${printable(item.path)}${size}${detail}`;
}

export function dryRunLine(s: DryRunSummary): string {
  const parts = [`${plural(s.filesToTransfer, 'file')} to transfer (${formatBytes(s.bytesToTransfer)})`, `${s.upToDate} up to date`];
  if (s.filesToDelete > 0) parts.push(`${s.filesToDelete} to delete`);
  if (s.problems.length > 0) parts.push(plural(s.problems.length, 'problem'));
  return `dry run: ${parts.join(', ')}; nothing was changed`;
}

/** The paths left out, grouped as the exit code sees them: failed first, then vanished or still changing. */
export function problemLines(problems: readonly Problem[]): string[] {
  if (problems.length === 0) return [];
  const leftOut = (p: Problem): boolean => p.code === 'vanished' || p.code === 'changed';
  const ordered = [...problems.filter((p) => !leftOut(p)), ...problems.filter(leftOut)];
  const lines = ordered.slice(0, PROBLEMS_LISTED).map((p) => `  ${p.code}: ${printable(p.path || '.')}: ${printable(p.message)}`);
  if (ordered.length > PROBLEMS_LISTED) lines.push(`  … and ${ordered.length - PROBLEMS_LISTED} more: gsync status lists them all`);
  return lines;
}

export function summaryLine(s: RunSummary): string {
  const parts = [
    `${plural(s.filesTransferred, 'file')} transferred (${formatBytes(s.bytesTransferred)})`,
    `${s.filesSkipped} up to date (${formatBytes(s.bytesSkipped)})`,
  ];
  if (s.symlinks > 0) parts.push(plural(s.symlinks, 'symlink'));
  if (s.filesDeleted > 0) parts.push(`${s.filesDeleted} deleted`);
  if (s.problems.length > 0) parts.push(`${plural(s.problems.length, 'problem')}`);
  return `${parts.join(', ')} in ${formatDuration(s.durationMs)} (${formatBytes(s.bytesTransferred / seconds(s))}/s)`;
}

/** As rsync ends: "received … bytes/sec" and "total size is X  speedup is Y", Y = total size / bytes received. */
export function receivedLines(s: RunSummary): string[] {
  return [
    `received ${formatBytes(s.bytesReceived)} in ${formatDuration(s.durationMs)} (${formatBytes(s.bytesReceived / seconds(s))}/s)`,
    `total size is ${formatBytes(s.totalSize)}  speedup is ${speedupText(speedup(s))}`,
  ];
}

/** Total size / bytes received; undefined when nothing was received (then there is no ratio to give). */
export function speedup(s: Pick<RunSummary, 'totalSize' | 'bytesReceived'>): number | undefined {
  return s.bytesReceived > 0 ? s.totalSize / s.bytesReceived : undefined;
}

function speedupText(value: number | undefined): string {
  return value === undefined ? 'n/a' : value.toFixed(2);
}

function seconds(s: RunSummary): number {
  return Math.max(s.durationMs, 1) / 1000;
}
