import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The lowest priority there is: such a thread runs when a core would otherwise wait. */
const LOWEST = 19;

/**
 * Puts every thread Node started before gsync's first line at the lowest priority: V8's helpers
 * (its optimizing compiler and concurrent GC) and libuv's pool. In a no-op re-run of 20,000 files
 * the helpers used ~0.26 s of CPU within 0.47 s (`perf record -a`), taking turns on 2 cores with
 * the main thread and the server; lowered, that run took 472 ms instead of 492 (15 reps,
 * alternated), and bigger pulls lost nothing. Threads started later (the transfer workers, the
 * main thread's children) keep the usual priority.
 *
 * Linux only, where a thread's id names that one thread to setpriority(2); elsewhere, or where
 * the call is refused, every thread keeps its priority.
 */
export function lowerHelperThreads(): void {
  if (process.platform !== 'linux') return;
  let threads: string[];
  try {
    threads = readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const thread of threads) {
    const id = Number(thread);
    if (id === process.pid) continue;
    try {
      setPriority(id, LOWEST);
    } catch {
      // Gone, or not ours to change: it keeps its priority.
    }
  }
}
