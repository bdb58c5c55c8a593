import { ExitCode } from '../errors/exitCodes.js';
import { isGsyncError } from '../errors/GsyncError.js';
import { printable } from '../core/printable.js';

/** How a failed command ends: one line (plus a hint), and an exit code from the one table. */
export interface Failure {
  readonly lines: readonly string[];
  readonly exitCode: number;
}

/**
 * Maps anything thrown to what the user sees. Expected failures never show a stack trace; an
 * unexpected one does only with GSYNC_DEBUG set.
 */
export function describeFailure(error: unknown, debug: boolean): Failure {
  if (isGsyncError(error)) {
    const lines = [`gsync: ${printable(error.message, 1000)}`];
    if (error.hint) lines.push(`  hint: ${printable(error.hint, 1000)}`);
    return { lines, exitCode: error.exitCode };
  }
  const oclif = (error as { oclif?: { exit?: number } } | null | undefined)?.oclif;
  const message = printable(error instanceof Error ? error.message : String(error), 1000);
  if (oclif) {
    // oclif's own parse errors (unknown flag, missing argument) are usage errors: exit 1, not its default 2.
    const exitCode = oclif.exit === 0 ? 0 : ExitCode.usage;
    const firstLine = (error as Error).message.split('\n')[0] ?? '';
    return { lines: [`gsync: ${printable(firstLine, 1000)}`, '  hint: see gsync pull --help'], exitCode };
  }
  const lines = [`gsync: unexpected error: ${message}`, '  hint: this is a bug in gsync; rerun with GSYNC_DEBUG=1 and report the output'];
  if (debug && error instanceof Error && error.stack) lines.push(error.stack);
  return { lines, exitCode: ExitCode.localIo };
}
