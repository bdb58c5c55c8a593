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
 * unexpected one does only with GSYNC_DEBUG set. `command` is the one that failed, as typed
 * (`cron add`), for the help a usage error points to.
 */
export function describeFailure(error: unknown, debug: boolean, command = 'pull'): Failure {
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
    return { lines: [`gsync: ${printable(oclifSummary((error as Error).message), 1000)}`, `  hint: see gsync ${command} --help`], exitCode };
  }
  const lines = [`gsync: unexpected error: ${message}`, '  hint: this is a bug in gsync; rerun with GSYNC_DEBUG=1 and report the output'];
  if (debug && error instanceof Error && error.stack) lines.push(error.stack);
  return { lines, exitCode: ExitCode.localIo };
}

/**
 * oclif's parse errors in one line: what comes before its "See more help" footer, with a
 * heading like "Missing 1 required arg:" or "Parsing --timeout" joined to the lines it
 * introduces (the reason a value was refused) and the bare "The following error occurred:" dropped.
 */
function oclifSummary(message: string): string {
  const lines = message.split('\n').map((line) => line.trim().replace(/\s+/g, ' '));
  const end = lines.findIndex((line) => line === '' || line.startsWith('See more help') || line.startsWith('Note:'));
  const [first = '', ...rest] = end < 0 ? lines : lines.slice(0, end);
  if (rest.length === 0) return first;
  if (/^The following errors? occurred:$/.test(first)) return rest.join('; ');
  return `${first}${first.endsWith(':') ? '' : ':'} ${rest.join('; ')}`;
}
