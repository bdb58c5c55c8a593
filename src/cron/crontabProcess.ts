import { spawn } from 'node:child_process';
import { printable } from '../core/printable.js';
import { GsyncError } from '../errors/GsyncError.js';

/** How a crontab command ended. */
interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const INSTALL_HINT = 'install cron (Debian/Ubuntu: apt-get install cron; Fedora/RHEL: dnf install cronie), which provides the crontab command';

/**
 * The user's crontab as `crontab -l` prints it; '' when there is none yet (crontab exits 1 and
 * says "no crontab for <user>").
 */
export async function readCrontab(): Promise<string> {
  const result = await runCrontab(['-l']);
  if (result.code === 0) return result.stdout;
  if (result.code === 1 && /no crontab for/i.test(result.stderr)) return '';
  throw crontabFailed('read your crontab (crontab -l)', result);
}

/**
 * Installs `text` as the user's crontab through `crontab -` on stdin: no temporary file of
 * ours, so nothing of the crontab ever sits where another user could read or swap it.
 */
export async function writeCrontab(text: string): Promise<void> {
  const result = await runCrontab(['-'], text);
  if (result.code !== 0) throw crontabFailed('install the new crontab (crontab -)', result);
}

function runCrontab(args: readonly string[], input?: string): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn('crontab', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') reject(new GsyncError('local-io', 'the crontab command is not installed (or not on PATH)', { hint: INSTALL_HINT, cause: error }));
      else reject(new GsyncError('local-io', `cannot run crontab: ${error.code ?? error.message}`, { hint: INSTALL_HINT, cause: error }));
    });
    // 'close', not 'exit': the output is complete only once the pipes are drained.
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
    if (child.stdin) {
      // crontab may exit before reading all of it (a refusal); its exit status says why, not EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

function crontabFailed(what: string, result: Finished): GsyncError {
  const said = result.stderr.trim().split('\n').filter(Boolean).join('; ');
  const notAllowed = /not allowed|cron\.(allow|deny)/i.test(said);
  return new GsyncError('local-io', `could not ${what}: ${said === '' ? `crontab exited with ${result.code}` : printable(said, 500)}`, {
    hint: notAllowed ? 'ask the administrator to let you use cron (/etc/cron.allow, /etc/cron.deny)' : 'check that crontab -l works for you, then run this again',
  });
}
