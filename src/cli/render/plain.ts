import type { RunSummary } from '../../core/types.js';
import type { EventSink, RunEvent } from '../../pipeline/events.js';
import { printable } from '../../core/printable.js';
import { formatBytes, formatDuration, plural } from './format.js';

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
        case 'done':
          if (!options.quiet) options.out(summaryLine(event.summary));
          return;
      }
    },
  };
}

export function summaryLine(s: RunSummary): string {
  const seconds = Math.max(s.durationMs, 1) / 1000;
  const parts = [
    `${plural(s.filesTransferred, 'file')} transferred (${formatBytes(s.bytesTransferred)})`,
    `${s.filesSkipped} up to date (${formatBytes(s.bytesSkipped)})`,
  ];
  if (s.symlinks > 0) parts.push(plural(s.symlinks, 'symlink'));
  if (s.problems.length > 0) parts.push(`${plural(s.problems.length, 'problem')}`);
  return `${parts.join(', ')} in ${formatDuration(s.durationMs)} (${formatBytes(s.bytesTransferred / seconds)}/s)`;
}
