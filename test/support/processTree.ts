import { readdirSync, readFileSync } from 'node:fs';

/**
 * Killing process trees that escape their process group. sshd's per-connection children call
 * setsid(), so `kill(-pgid)` misses them; they would outlive the listener, and once it is dead
 * nothing links them to it any more. While the listener lives, the kernel's parent links in /proc
 * still find them. Synchronous so it can run in a process 'exit' handler (a few ms: one small
 * read per process).
 */

function pids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined; // The process exited while we looked.
  }
}

/** State, parent and process group of a pid, or undefined once it is gone. */
function statOf(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name in field 2 may hold spaces and parentheses, so parse after the last ')'.
  const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return state === undefined ? undefined : { state, ppid: Number(ppid), pgrp: Number(pgrp) };
}

/** pid → parent pid, for every process visible in /proc. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const pid of pids()) {
    const stat = statOf(pid);
    if (stat !== undefined) table.set(pid, stat.ppid);
  }
  return table;
}

/**
 * Exists and has not exited. A zombie counts as exited: this container's init reaps orphans
 * lazily, so "[sshd] <defunct>" entries linger after a kill.
 */
export function isAlive(pid: number): boolean {
  const state = statOf(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Live members of a process group. */
export function groupMembers(pgid: number): number[] {
  return pids().filter((pid) => statOf(pid)?.pgrp === pgid && isAlive(pid));
}

/**
 * Resolves once `alive()` is empty. A killed process closes its pipes before it is a zombie,
 * and nothing emits an event for a process that is not our child, so this polls /proc with a
 * short backoff (1 → 50 ms), bounded by `timeoutMs`; rejects listing the survivors.
 */
export async function waitUntilGone(alive: () => number[], timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let backoff = 1; ; backoff = Math.min(backoff * 2, 50)) {
    const survivors = alive();
    if (survivors.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes still alive after ${timeoutMs} ms: ${survivors.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, backoff));
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone (ESRCH) is the common case; anything else we cannot fix from here.
  }
}

/**
 * SIGKILLs `roots` and all their descendants. Everything found is SIGSTOPped first and the search
 * repeated until it finds nothing new, so nothing can fork (or a listener accept and fork)
 * between being found and being killed.
 */
export function killTrees(roots: readonly number[]): number[] {
  const found = new Set<number>(roots);
  for (const pid of found) signal(pid, 'SIGSTOP');
  for (let round = 0; round < 20; round++) {
    let grew = false;
    for (const [pid, ppid] of processTable()) {
      if (!found.has(pid) && found.has(ppid)) {
        found.add(pid);
        signal(pid, 'SIGSTOP');
        grew = true;
      }
    }
    if (!grew) break;
  }
  for (const pid of found) signal(pid, 'SIGKILL');
  return [...found];
}

/** killTrees, then waits (bounded) until every process it killed has actually exited. */
export async function killTreesAndWait(roots: readonly number[], timeoutMs = 5_000): Promise<void> {
  const killed = killTrees(roots);
  await waitUntilGone(() => killed.filter(isAlive), timeoutMs);
}

/** Pids whose command line (as the process shows it, e.g. after setproctitle) passes `test`. */
export function pidsWithCmdline(test: (cmdline: string) => boolean): number[] {
  return pids().filter((pid) => pid !== process.pid && test((read(`/proc/${pid}/cmdline`) ?? '').replaceAll('\0', ' ')));
}
