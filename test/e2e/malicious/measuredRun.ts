import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { groupMembers, waitUntilGone } from '../../support/processTree.js';
import { GSYNC_BIN } from '../../support/runGsync.js';
import { killGroup, spawnDetached } from '../../support/runProcess.js';
import type { Sandbox } from './sandbox.js';

/** The harness kills a run whose resident memory passes this: the limit the suite asserts, and the machine's safety. */
export const RSS_LIMIT_KIB = 1024 * 1024;

export interface MeasuredRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Raw bytes: the control-byte check must see exactly what a terminal would. */
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly elapsedMs: number;
  /** Killed by the harness after hardTimeoutMs: the run did not end by itself. */
  readonly timedOut: boolean;
  /** Killed by the harness for passing RSS_LIMIT_KIB. */
  readonly rssKilled: boolean;
  /** Peak resident set in KiB (GNU time's %M, or the highest VmHWM seen), undefined if neither could tell. */
  readonly peakRssKiB: number | undefined;
  /**
   * For a run killed at hardTimeoutMs: what its threads were waiting in at that moment (kernel
   * wchan, counted), e.g. "wait_for_partner×1" is an open() of a FIFO nobody writes.
   */
  readonly waitsAtKill: string | undefined;
}

const TIME = '/usr/bin/time';
const haveTime = ((): boolean => {
  try {
    accessSync(TIME, constants.X_OK);
    return true;
  } catch {
    return false;
  }
})();

let runs = 0;

/**
 * Runs `node bin/run.js ...args` as the sandbox's runner with umask 022, in its own process
 * group, under GNU time (exact peak RSS at exit) while polling the group's VmHWM every 100 ms (a
 * peak for runs that must be killed, and a guard: past 1 GiB the group is killed). After
 * hardTimeoutMs the whole group is killed and the result says so.
 */
export async function runMeasured(box: Sandbox, args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd: string; hardTimeoutMs: number }): Promise<MeasuredRun> {
  const rssFile = join(box.base, `rss-${++runs}.txt`);
  const gsync = [process.execPath, GSYNC_BIN, ...args];
  const timed = haveTime ? [TIME, '-f', '%M', '-o', rssFile, ...gsync] : gsync;
  const shell = ['/bin/sh', '-c', 'umask 022 && exec "$@"', 'sh', ...timed];
  const runner = box.runner;
  const argv = runner ? ['setpriv', `--reuid=${runner.uid}`, `--regid=${runner.gid}`, '--clear-groups', ...shell] : shell;

  const started = Date.now();
  const child = spawnDetached(argv[0] as string, argv.slice(1), { env: options.env, cwd: options.cwd });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  let timedOut = false;
  let rssKilled = false;
  let polledKiB = 0;
  const poll = setInterval(() => {
    if (child.pid === undefined) return;
    for (const pid of groupMembers(child.pid)) polledKiB = Math.max(polledKiB, highWaterKiB(pid));
    if (polledKiB >= RSS_LIMIT_KIB && !rssKilled) {
      rssKilled = true;
      killGroup(child);
    }
  }, 100);
  let waitsAtKill: string | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) waitsAtKill = threadWaits(groupMembers(child.pid));
    killGroup(child);
  }, options.hardTimeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  }).finally(() => {
    clearInterval(poll);
    clearTimeout(timer);
  });
  const elapsedMs = Date.now() - started;
  if ((timedOut || rssKilled) && child.pid !== undefined) await waitUntilGone(() => groupMembers(child.pid!)).catch(() => undefined);
  const timeKiB = haveTime ? await readTimeOutput(rssFile) : undefined;
  const peak = Math.max(timeKiB ?? 0, polledKiB);
  return {
    code,
    signal,
    stdout: Buffer.concat(stdout),
    stderr: Buffer.concat(stderr),
    elapsedMs,
    timedOut,
    rssKilled,
    peakRssKiB: peak > 0 ? peak : undefined,
    waitsAtKill,
  };
}

function highWaterKiB(pid: number): number {
  try {
    // Synchronous on purpose: one small read, and the poll must not pile up on itself.
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // exited between the listing and the read
  }
}

function threadWaits(pids: readonly number[]): string {
  const counts = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const tid of tids) {
      let wchan = '?';
      try {
        wchan = readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'latin1').trim() || 'running';
      } catch {
        continue;
      }
      counts.set(wchan === '0' ? 'running' : wchan, (counts.get(wchan) ?? 0) + 1);
    }
  }
  return [...counts].map(([wchan, n]) => `${wchan}×${n}`).join(', ');
}

/** GNU time writes "Command exited with non-zero status N" before the format's line when the command failed. */
async function readTimeOutput(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const last = text.trim().split('\n').at(-1) ?? '';
  return /^\d+$/.test(last) ? Number(last) : undefined;
}
