import { readFileSync } from 'node:fs';

/**
 * Starts a clock of the time this thread spends waiting (asleep in the event loop): wall time
 * less its time on a CPU and queued for one (Linux's /proc/thread-self/schedstat; elsewhere, wall
 * time). A round trip timed with it is not lengthened by the thread's own work nor by other
 * processes: under load, wall time made a loopback STAT look like a long link's (20 ms and more).
 */
export function startWaitClock(): () => number {
  const wall = performance.now();
  const busy = busyMs();
  return () => Math.max(0, performance.now() - wall - (busyMs() - busy));
}

let schedstat = process.platform === 'linux';

/** This thread's time on a CPU and runnable but waiting for one, in ms (0 where unknown). */
function busyMs(): number {
  if (!schedstat) return 0;
  try {
    const [onCpu = 0, queued = 0] = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ').map(Number);
    return (onCpu + queued) / 1e6;
  } catch {
    schedstat = false;
    return 0;
  }
}
