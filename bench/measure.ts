import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { killGroup } from '../test/support/runProcess.js';
import type { CpuAccount } from './cpuAccount.js';
import type { ByteCounts } from './server.js';
import type { Command } from './tools.js';
import type { Row } from './types.js';

/** What one run of a tool cost (a Row's measurements), and how it ended. */
export interface Measured extends Pick<Row, 'wallSeconds' | 'userSeconds' | 'sysSeconds' | 'maxRssKiB' | 'downBytes' | 'upBytes'> {
  /** Row.syncSeconds: always measured here. */
  readonly syncSeconds: number;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The last lines the tool printed on stderr, for a FAIL cell's explanation. */
  readonly stderrTail: string;
}

export interface RunSetup {
  readonly env: NodeJS.ProcessEnv;
  readonly counters: () => ByteCounts;
  readonly timeoutMs: number;
  /** Where /usr/bin/time writes its line. */
  readonly timeFile: string;
  /** Counts CPU of the whole tree when the machine allows (else /usr/bin/time's waited-for children). */
  readonly cpu: CpuAccount | undefined;
  /** A path on the copies' file system: synced as the tool exits (Row.syncSeconds). */
  readonly copies: string;
}

/** Flushes dirty pages so a rep does not pay for the previous one's writeback. */
export function flushDirtyPages(): void {
  spawnSync('sync');
}

/**
 * Runs `command` under /usr/bin/time in its own process group and measures it. Wall time is taken
 * here (sub-millisecond); CPU is user+sys of the whole tree (from the cgroup, else every
 * waited-for child), RSS the largest single process. Once the clock has stopped, the copies'
 * file system is synced and that timed too (syncCopies).
 */
export async function measure(command: Command, setup: RunSetup): Promise<Measured> {
  rmSync(setup.timeFile, { force: true });
  const timed = ['-f', '%U %S %M', '-o', setup.timeFile, command.file, ...command.args];
  // The shell joins the cgroup, then becomes /usr/bin/time: the tool and all it starts are in it.
  const wrapped: Command =
    setup.cpu === undefined
      ? { ...command, file: '/usr/bin/time', args: timed }
      : { ...command, file: '/bin/sh', args: ['-c', 'echo $$ > "$0" && exec /usr/bin/time "$@"', setup.cpu.procsFile, ...timed] };
  const cpuBefore = setup.cpu?.read();
  const before = setup.counters();
  const started = performance.now();
  const result = await run(wrapped, setup);
  const wallSeconds = (performance.now() - started) / 1000;
  const after = setup.counters();
  const cpuAfter = setup.cpu?.read();
  const syncSeconds = syncCopies(setup.copies);
  let [user, sys, rss] = [NaN, NaN, NaN];
  try {
    const last = readFileSync(setup.timeFile, 'utf8').trim().split('\n').at(-1) ?? '';
    [user, sys, rss] = last.split(' ').map(Number) as [number, number, number];
  } catch {
    // Killed by the timeout before time wrote its line: the row says TIMEOUT anyway.
  }
  if (cpuBefore !== undefined && cpuAfter !== undefined) {
    user = cpuAfter.user - cpuBefore.user;
    sys = cpuAfter.sys - cpuBefore.sys;
  }
  return {
    ...result,
    wallSeconds,
    userSeconds: user,
    sysSeconds: sys,
    maxRssKiB: rss,
    downBytes: after.down - before.down,
    upBytes: after.up - before.up,
    syncSeconds,
  };
}

/**
 * How long a sync of the file system holding `path` takes (syncfs, through coreutils' sync -f):
 * what a tool that does not sync its copy leaves for the kernel to write after it exits. A tool
 * that made its files durable itself leaves next to nothing (the spawn's few milliseconds).
 */
function syncCopies(path: string): number {
  const started = performance.now();
  spawnSync('sync', ['-f', path]);
  return (performance.now() - started) / 1000;
}

/**
 * Runs `command` and SIGKILLs its whole process group once `killAtDown` bytes have come down (the
 * resume scenario's first half). Returns the bytes that crossed, and whether the kill happened
 * before the tool finished on its own.
 */
export async function runUntilKilled(command: Command, setup: RunSetup, killAtDown: number): Promise<{ killed: boolean; downBytes: number; upBytes: number; exitCode: number | null }> {
  const before = setup.counters();
  let killed = false;
  const result = await run(command, setup, (child) => {
    if (setup.counters().down - before.down < killAtDown) return false;
    killed = true;
    killGroup(child);
    return true;
  });
  // Bytes already in flight when the tool died still reach the counters for a moment.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const after = setup.counters();
  return { killed, downBytes: after.down - before.down, upBytes: after.up - before.up, exitCode: result.exitCode };
}

/** Process groups of tools still running, so an interrupted bench leaves none behind. */
const running = new Set<ChildProcess>();

/** SIGKILLs every tool the bench started that is still running (for SIGINT/SIGTERM). */
export function killRunningTools(): void {
  for (const child of running) killGroup(child);
}

/** Poll period for the kill point: at ~1 GB/s, 2 ms is ~2 MB of a 1 GiB dataset. */
const POLL_MS = 2;

async function run(
  command: Command,
  setup: RunSetup,
  poll?: (child: ChildProcess) => boolean,
): Promise<{ exitCode: number | null; timedOut: boolean; stderrTail: string }> {
  const child = spawn(command.file, [...command.args], {
    env: setup.env,
    detached: true,
    stdio: [command.stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
  });
  running.add(child);
  if (command.stdin !== undefined) child.stdin?.end(command.stdin);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4096);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, setup.timeoutMs);
  const poller =
    poll === undefined
      ? undefined
      : setInterval(() => {
          if (poll(child)) clearInterval(poller);
        }, POLL_MS);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      stderr += error.message;
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  if (poller !== undefined) clearInterval(poller);
  killGroup(child); // anything the tool left running in its group
  running.delete(child);
  const stderrTail = stderr.trim().split('\n').slice(-3).join(' | ');
  return { exitCode, timedOut, stderrTail };
}
