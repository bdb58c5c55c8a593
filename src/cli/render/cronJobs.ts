import { printable } from '../../core/printable.js';
import type { ListedJob } from '../../cron/cronLine.js';

const HEADER = ['ID', 'SCHEDULE', 'SOURCE', 'DESTINATION'] as const;

/** `gsync cron list`: a header and one padded row per job, or one line saying there are none. */
export function jobTable(jobs: readonly ListedJob[]): string[] {
  if (jobs.length === 0) return ['no gsync jobs in your crontab (gsync cron add installs one)'];
  const rows = [[...HEADER], ...jobs.map(cells)];
  const widths = HEADER.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  '));
}

/** One job on one line, for `remove` to say what went. */
export function jobLine(job: ListedJob): string {
  return cells(job).join('  ');
}

function cells(job: ListedJob): string[] {
  // A hand-edited line may no longer read as a gsync command: its id and schedule still show.
  return [job.id, job.schedule, printable(job.source ?? '?', 500), printable(job.destination ?? '?', 500)];
}
