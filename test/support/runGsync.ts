import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runProcess, spawnDetached } from './runProcess.js';

/** The repository root: this file lives in <root>/test/support/. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The CLI entry point the tests run, as users would: a real `node` process. */
export const GSYNC_BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface GsyncResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <repo>/bin/run.js ...args` with the given env/cwd; rejects only if it cannot be
 * spawned; SIGKILLs its whole process group after timeoutMs (default 60 s), which shows up as
 * `signal: 'SIGKILL'`.
 */
export async function runGsync(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<GsyncResult> {
  const result = await runProcess(process.execPath, [GSYNC_BIN, ...args], options);
  return {
    code: result.code,
    signal: result.signal,
    stdout: result.stdout.toString('utf8'),
    stderr: result.stderr.toString('utf8'),
  };
}

/**
 * Spawns it and returns the ChildProcess (stdin /dev/null, stdout/stderr piped) for tests that
 * kill it mid-run. Detached into its own process group so a test can SIGKILL the whole tree:
 * `process.kill(-child.pid, 'SIGKILL')` (or killGroup from runProcess.ts).
 */
export function spawnGsync(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): ChildProcess {
  return spawnDetached(process.execPath, [GSYNC_BIN, ...args], options);
}
