import type { Problem, RunSummary } from '../core/types.js';
import { ExitCode, worstExitCode } from '../errors/exitCodes.js';
import type { EventSink } from './events.js';

/** The run's counters; the one place problems are collected and reported. */
export class Tally {
  filesTransferred = 0;
  bytesTransferred = 0;
  filesSkipped = 0;
  bytesSkipped = 0;
  dirs = 0;
  symlinks = 0;
  readonly problems: Problem[] = [];

  constructor(private readonly sink: EventSink) {}

  problem(problem: Problem): void {
    this.problems.push(problem);
    this.sink.emit({ type: 'problem', problem });
  }

  /** The exit code the problems alone call for: 24 if only source files vanished or kept changing, else 23. */
  problemsExitCode(): ExitCode {
    return worstExitCode(
      this.problems.map((p) => (p.code === 'vanished' || p.code === 'changed' ? ExitCode.vanished : ExitCode.partial)),
    );
  }

  summary(runId: number, durationMs: number, exitCode: number): RunSummary {
    return {
      runId,
      filesTransferred: this.filesTransferred,
      bytesTransferred: this.bytesTransferred,
      filesSkipped: this.filesSkipped,
      bytesSkipped: this.bytesSkipped,
      dirs: this.dirs,
      symlinks: this.symlinks,
      problems: [...this.problems],
      durationMs,
      exitCode,
    };
  }
}
