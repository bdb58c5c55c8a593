import type { Problem, RunSummary } from '../../core/types.js';
import type { DryRunSummary, EventSink, PlanItem, RunEvent } from '../../pipeline/events.js';
import { printable } from '../../core/printable.js';
import { formatBytes, formatDuration, plural } from '../../core/format.js';

export interface PlainOptions {
  /** -v: a line per file transferred. */
  readonly verbose: boolean;
  readonly quiet: boolean;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Plain log lines: problems on stderr, the closing summary on stdout. Fit for cron and pipes. */
export function plainSink(options: PlainOptions): EventSink {
  return {
    emit(event: RunEvent): void {
      switch (event.type) {
        case 'start':
          if (options.verbose) options.out(`pulling ${printable(event.source)} into ${event.destination}`);
          return;
        case 'file':
          if (options.verbose) options.out(printable(event.path));
          return;
        case 'notice':
          if (!options.quiet) options.err(`gsync: ${printable(event.path)}: ${event.message}`);
          return;
        case 'problem':
          options.err(`gsync: ${printable(event.problem.path || '.')}: ${printable(event.problem.message)}`);
          return;
        case 'planned':
          if (!options.quiet) options.out(planLine(event.item));
          return;
        case 'dry-run-done':
          if (event.summary.deleteRefused) options.err(`gsync: ${event.summary.deleteRefused}`);
          options.out(dryRunLine(event.summary));
          for (const line of problemLines(event.summary.problems)) options.out(line);
          return;
        case 'done':
          if (event.summary.deleteRefused) options.err(`gsync: ${event.summary.deleteRefused}`);
          if (options.quiet) return;
          options.out(summaryLine(event.summary));
          for (const line of deletedLines(event.summary.deleted)) options.out(line);
          for (const line of problemLines(event.summary.problems)) options.out(line);
          return;
      }
    },
  };
}

/** Shown at the end of a run, after the summary; `gsync status` lists them all. */
const PROBLEMS_LISTED = 50;

/** The paths left out, grouped as the exit code sees them: failed first, then vanished or still changing. */
export function problemLines(problems: readonly Problem[]): string[] {
  if (problems.length === 0) return [];
  const leftOut = (p: Problem): boolean => p.code === 'vanished' || p.code === 'changed';
  const ordered = [...problems.filter((p) => !leftOut(p)), ...problems.filter(leftOut)];
  const lines = ordered.slice(0, PROBLEMS_LISTED).map((p) => `  ${p.code}: ${printable(p.path || '.')}: ${printable(p.message)}`);
  if (ordered.length > PROBLEMS_LISTED) lines.push(`  … and ${ordered.length - PROBLEMS_LISTED} more: gsync status lists them all`);
  return lines;
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

export function summaryLine(s: RunSummary): string {
  const seconds = Math.max(s.durationMs, 1) / 1000;
  const parts = [
    `${plural(s.filesTransferred, 'file')} transferred (${formatBytes(s.bytesTransferred)})`,
    `${s.filesSkipped} up to date (${formatBytes(s.bytesSkipped)})`,
  ];
  if (s.symlinks > 0) parts.push(plural(s.symlinks, 'symlink'));
  if (s.filesDeleted > 0) parts.push(`${s.filesDeleted} deleted`);
  if (s.problems.length > 0) parts.push(`${plural(s.problems.length, 'problem')}`);
  return `${parts.join(', ')} in ${formatDuration(s.durationMs)} (${formatBytes(s.bytesTransferred / seconds)}/s)`;
}
