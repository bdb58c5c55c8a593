import { parentOf } from '../core/names.js';
import type { Problem, RunSummary } from '../core/types.js';
import { ExitCode, worstExitCode } from '../errors/exitCodes.js';
import type { EventSink } from './events.js';

/** The run's counters; the one place problems are collected and reported. */
export class Tally {
  filesTransferred = 0;
  bytesTransferred = 0;
  /** Bytes of the files planned for transfer so far: what a full disk is measured against. */
  bytesPlanned = 0;
  filesSkipped = 0;
  bytesSkipped = 0;
  dirs = 0;
  symlinks = 0;
  readonly problems: Problem[] = [];
  readonly #problemsByDir = new Map<string, number>();

  constructor(private readonly sink: EventSink) {}

  /** Records a problem against the directory it belongs to: by default the one holding the path. */
  problem(problem: Problem, dir = parentOf(problem.path)): void {
    this.problems.push(problem);
    this.#problemsByDir.set(dir, (this.#problemsByDir.get(dir) ?? 0) + 1);
    this.sink.emit({ type: 'problem', problem });
  }

  /** Problems recorded against `dir` itself (not its subdirectories). */
  problemsIn(dir: string): number {
    return this.#problemsByDir.get(dir) ?? 0;
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
