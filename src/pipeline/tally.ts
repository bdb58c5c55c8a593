import { parentOf } from '../core/names.js';
import type { Problem, ProblemCode, RunSummary } from '../core/types.js';
import { ExitCode } from '../errors/exitCodes.js';
import type { EventSink } from './events.js';

/** The run's counters; the one place problems are collected and reported. */
export class Tally {
  filesTransferred = 0;
  bytesTransferred = 0;
  /** Sizes of the files put in place: with the skipped bytes, the dataset's size (rsync's "total size"). */
  sizeTransferred = 0;
  /** Bytes of the files planned for transfer so far: what a full disk is measured against. */
  bytesPlanned = 0;
  /** Files planned for transfer so far: a progress line's total. */
  filesPlanned = 0;
  filesSkipped = 0;
  bytesSkipped = 0;
  dirs = 0;
  symlinks = 0;
  readonly problems: Problem[] = [];
  deleted: readonly string[] = [];
  filesDeleted = 0;
  deleteRefused: string | undefined;
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

  /**
   * The exit code the problems alone call for: 23 if any entry failed; else 12 if the server
   * broke the protocol for some file; else 24 if source files vanished or kept changing.
   */
  problemsExitCode(): ExitCode {
    const codes = new Set(this.problems.map((p) => p.code));
    const leftOut = (code: ProblemCode): boolean => code === 'vanished' || code === 'changed' || code === 'protocol';
    if ([...codes].some((code) => !leftOut(code))) return ExitCode.partial;
    if (codes.has('protocol')) return ExitCode.protocol;
    return codes.size > 0 ? ExitCode.vanished : ExitCode.ok;
  }

  /** `bytesReceived`: what every connection of the run received on the wire. */
  summary(runId: number, durationMs: number, exitCode: number, bytesReceived: number): RunSummary {
    return {
      runId,
      filesTransferred: this.filesTransferred,
      bytesTransferred: this.bytesTransferred,
      filesSkipped: this.filesSkipped,
      bytesSkipped: this.bytesSkipped,
      bytesReceived,
      totalSize: this.sizeTransferred + this.bytesSkipped,
      dirs: this.dirs,
      symlinks: this.symlinks,
      problems: [...this.problems],
      deleted: this.deleted,
      filesDeleted: this.filesDeleted,
      ...(this.deleteRefused === undefined ? {} : { deleteRefused: this.deleteRefused }),
      durationMs,
      exitCode,
    };
  }
}
