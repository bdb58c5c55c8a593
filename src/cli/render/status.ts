import type { Status } from '../../pipeline/readStatus.js';
import { printable } from '../../core/printable.js';
import { formatBytes, formatDuration } from '../../core/format.js';

/** `gsync status` as text: one line per run, then its problems indented; then the directories and files left unfinished. */
export function statusLines({ runs, running, partials, dirs }: Status): string[] {
  if (runs.length === 0) return ['no runs recorded yet'];
  const lines: string[] = [];
  for (const [i, run] of runs.entries()) {
    const when = new Date(run.startedAt).toISOString().replace('T', ' ').slice(0, 19);
    // Only the newest run can be the one going on; an older unfinished one was killed.
    const unfinished = i === 0 && running ? `running now (pid ${running.pid} on ${printable(running.host)})` : 'unfinished (killed?)';
    const outcome = run.exitCode === null ? unfinished : run.exitCode === 0 ? 'ok' : `exit ${run.exitCode}`;
    const took = run.finishedAt === null ? '' : ` in ${formatDuration(run.finishedAt - run.startedAt)}`;
    lines.push(
      `#${run.id} ${when} ${printable(run.source)}: ${outcome}, ${run.filesTransferred} files (${formatBytes(run.bytesTransferred)}) transferred, ${run.filesSkipped} up to date${took}`,
    );
    if (run.message && run.exitCode !== 0) lines.push(`    ${printable(run.message)}`);
    for (const p of run.problems) lines.push(`    ${p.code}: ${printable(p.path || '.')}: ${printable(p.message)}`);
  }
  if (dirs.length > 0) lines.push('directories not complete (the next run tries them again):');
  for (const d of dirs) lines.push(`    ${printable(d.path || '.')}: ${d.outcome === 'unlisted' ? 'could not be listed' : 'some entries failed'} (run #${d.runId})`);
  if (partials.length > 0) lines.push('partial files (the next run resumes them):');
  for (const p of partials) lines.push(`    ${printable(p.path)}: ${p.percent}% of ${formatBytes(p.size)}`);
  return lines;
}
