import type { RunRecord } from '../../state/store.js';
import { printable } from '../../core/printable.js';
import { formatBytes, formatDuration } from './format.js';

/** `gsync status` as text: one line per run, then its problems indented. */
export function statusLines(runs: readonly RunRecord[]): string[] {
  if (runs.length === 0) return ['no runs recorded yet'];
  const lines: string[] = [];
  for (const run of runs) {
    const when = new Date(run.startedAt).toISOString().replace('T', ' ').slice(0, 19);
    const outcome = run.exitCode === null ? 'unfinished (killed?)' : run.exitCode === 0 ? 'ok' : `exit ${run.exitCode}`;
    const took = run.finishedAt === null ? '' : ` in ${formatDuration(run.finishedAt - run.startedAt)}`;
    lines.push(
      `#${run.id} ${when} ${printable(run.source)}: ${outcome}, ${run.filesTransferred} files (${formatBytes(run.bytesTransferred)}) transferred, ${run.filesSkipped} up to date${took}`,
    );
    if (run.message && run.exitCode !== 0) lines.push(`    ${printable(run.message)}`);
    for (const p of run.problems) lines.push(`    ${p.code}: ${printable(p.path || '.')}: ${printable(p.message)}`);
  }
  return lines;
}
