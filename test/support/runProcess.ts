import { spawn, type ChildProcess } from 'node:child_process';
import { groupMembers, waitUntilGone } from './processTree.js';

/** How a finished process ended, with its output as raw bytes (binary output stays exact). */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  /** True when it was killed for running past timeoutMs. */
  timedOut: boolean;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** SIGKILLs the whole process group after this long (default 60 s), and resolves once it is dead. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string | Buffer;
}

/**
 * Spawns `command` in its own process group (detached), stdout/stderr piped, so `kill(-pid)`
 * reaches everything it started. stdin is /dev/null unless `withStdin`.
 */
export function spawnDetached(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; withStdin?: boolean },
): ChildProcess {
  return spawn(command, args, {
    env: options.env ?? process.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    detached: true,
    stdio: [options.withStdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
}

/** SIGKILLs the process group of a child started by spawnDetached; a group already gone is fine. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group has already exited.
  }
}

/** Runs a process to completion; rejects only if it cannot be spawned. */
export function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawnDetached(command, args, { ...options, withStdin: options.input !== undefined });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, options.timeoutMs ?? 60_000);
    const settle = (result: ProcessResult): void => {
      // After a timeout, resolve only once the whole group is dead: its members close their
      // pipes (ending 'close') a moment before they finish exiting.
      if (!timedOut || child.pid === undefined) return resolve(result);
      waitUntilGone(() => groupMembers(child.pid!)).then(
        () => resolve(result),
        () => resolve(result),
      );
    };
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    // The child may exit without reading its input; EPIPE on stdin is not the caller's failure.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close' rather than 'exit': it waits for stdout/stderr to drain.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      settle({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), timedOut });
    });
  });
}
