import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runProcess, type ProcessResult, type RunOptions } from './runProcess.js';
import { testUser, type TestUser } from './testUser.js';

/**
 * Whose crontab the cron tests edit: the unprivileged test user when the suite runs as root
 * (every command of the test then runs as that user through setpriv, as in the hostile-server
 * suite), otherwise the current user, whose own crontab is saved first and put back after.
 */
export interface CrontabUser extends TestUser {
  /** The home directory in the password database: the HOME cron gives the user's jobs. */
  readonly home: string;
  /** Set when running as root: the account commands are switched to. */
  readonly runner: TestUser | undefined;
}

export function crontabUser(): CrontabUser {
  const user = testUser();
  return { ...user, home: passwdHome(user.name), runner: process.getuid?.() === 0 ? user : undefined };
}

/** `argv` run as the crontab user: unchanged unless the suite runs as root. */
export function asUser(user: CrontabUser, argv: readonly string[]): [string, string[]] {
  const runner = user.runner;
  if (runner === undefined) return [argv[0] as string, argv.slice(1)];
  return ['/usr/bin/setpriv', [`--reuid=${runner.uid}`, `--regid=${runner.gid}`, '--clear-groups', ...argv]];
}

export function runAsUser(user: CrontabUser, argv: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  const [command, args] = asUser(user, argv);
  return runProcess(command, args, options);
}

/** The user's crontab as `crontab -l` prints it, or undefined when there is none. */
export async function readUserCrontab(user: CrontabUser): Promise<string | undefined> {
  const result = await runAsUser(user, ['crontab', '-l'], { timeoutMs: 10_000 });
  if (result.code === 0) return result.stdout.toString('utf8');
  if (/no crontab for/.test(result.stderr.toString())) return undefined;
  throw new Error(`crontab -l failed (${result.code}): ${result.stderr.toString()}`);
}

/** Installs `text` as the user's crontab, or removes it for undefined. */
export async function writeUserCrontab(user: CrontabUser, text: string | undefined): Promise<void> {
  const result =
    text === undefined
      ? await runAsUser(user, ['crontab', '-r'], { timeoutMs: 10_000 })
      : await runAsUser(user, ['crontab', '-'], { input: text, timeoutMs: 10_000 });
  if (result.code !== 0 && !(text === undefined && /no crontab for/.test(result.stderr.toString()))) {
    throw new Error(`crontab ${text === undefined ? '-r' : '-'} failed (${result.code}): ${result.stderr.toString()}`);
  }
}

/**
 * Holds an exclusive flock(1) on the user's home directory until the returned release is
 * called, so two test runs in parallel shells never edit one crontab at once. The lock lives in
 * a child that holds it while its stdin is open: if this process dies, the pipe closes and the
 * lock goes with it.
 */
export async function lockCrontab(user: CrontabUser, timeoutMs = 50_000): Promise<() => Promise<void>> {
  const child = spawn('flock', ['--timeout', String(Math.ceil(timeoutMs / 1000)), user.home, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve();
    });
    child.once('error', reject);
    child.once('close', (code) => reject(new Error(`flock ${user.home} ended (${code}) before taking the lock: ${stderr}`)));
  });
  return async () => {
    child.stdin.end();
    await exited;
  };
}

function passwdHome(name: string): string {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[5] !== undefined) return fields[5];
  }
  throw new Error(`${name} has no entry in /etc/passwd`);
}

export type { ProcessResult };
