import { RECEIVE_WINDOW } from '../ssh/receiveWindow.js';

/**
 * What a link's round trip calls for, beyond the READs in flight (readLoop.ts): how many
 * directories the walk lists at once, how many transfer tasks each connection carries at once,
 * and the receive window of a tar's channel. The round trip is the root STAT's, timed as the
 * thread's waiting (waitClock.ts).
 */

/**
 * From this round trip on, a link is a long one: tasks go side by side and tars get wider
 * windows, which also lets the server read further ahead of what has arrived. Under the test
 * suite's load a loopback STAT waited up to 7.7 ms; a 20 ms round trip's, 16.5 ms (a link that
 * short lists more directories at once, and no more).
 */
const LONG_LINK_MS = 20;

/** What the walk's pace depends on. */
export interface WalkLink {
  /** The root STAT's round trip. */
  readonly roundTripMs: number;
  /** The open handles the server allows, if it says. */
  readonly serverHandles: number | undefined;
  /** Everything listed will be fetched (firstPull in runPull.ts). */
  readonly firstPull: boolean;
}

/**
 * How many directories the walk works on at once. A directory holds its slot for two round trips
 * at least (its OPENDIR, then its READDIRs), so a long link needs more of them for the same pace.
 * On a LAN the CPU is the limit and 32 are enough (8 made 200 directories of 3 changed files each
 * take 3.9 s; 32, 1.7 s). Over a 100 ms round trip, a no-op re-run of 231 directories took 3.17 s
 * with 32, 2.25 s with 128 and 2.12 s with 256 (rsync: 3.59 s). A first pull is paced by its
 * transfers, not by its listing: more directories at once only left files waiting longer (20,000
 * files over that link: 14.4 s with 32, 15.2 s with 64, 15.8 s with 250).
 */
export function dirsAtOnce(link: WalkLink): number {
  if (link.firstPull) return MIN_DIRS;
  const wanted = Math.ceil(DIRS_PER_ROUND_TRIP_MS * Math.max(0, link.roundTripMs));
  // Each directory being listed holds a handle on the server: a quarter of what it allows leaves
  // the rest to transfers. A server that does not say may allow few.
  const handles = Math.floor((link.serverHandles ?? UNKNOWN_SERVER_HANDLES) / 4);
  return Math.max(MIN_DIRS, Math.min(MAX_DIRS, wanted, handles));
}

/** About what a LAN walk gets through per ms (231 directories in ~0.3 s), kept up over two round trips. */
const DIRS_PER_ROUND_TRIP_MS = 2.5;
const MIN_DIRS = 32;
const MAX_DIRS = 256;
const UNKNOWN_SERVER_HANDLES = 256;

/**
 * Transfer tasks each connection carries at once. One on a LAN, where the CPU is the limit. A
 * task is latency-bound on a long link: a tar's channel, command and first bytes are three round
 * trips before its files stream; a block task's READs in flight are bounded. Over a 100 ms round
 * trip, 4 at once made a first pull of 20,000 small files take 4.87 s instead of 8.87 (2: 6.06),
 * and one of 2 × 512 MiB 9.18 s instead of 13.33 (one run each).
 */
export function tasksPerConnection(roundTripMs: number): number {
  if (roundTripMs < LONG_LINK_MS) return 1;
  return Math.min(MAX_TASKS_PER_CONNECTION, Math.ceil(roundTripMs / MS_PER_TASK));
}

const MS_PER_TASK = 12.5;
const MAX_TASKS_PER_CONNECTION = 4;

/**
 * The receive window a tar's channel gets on a long link, or undefined for ssh2's own (2 MiB):
 * room for 320 MiB/s, up to 32 MiB. A tar over a 100 ms round trip carried ~2 MiB per round
 * trip: 20,000 small files took 14.1 s in ssh2's window, 8.6 s in 32 MiB. On the LAN, 32 MiB
 * made them slower (2.19 → 2.36 s: the server ran further ahead of a client that was the
 * bottleneck already).
 */
export function streamWindowFor(roundTripMs: number): number | undefined {
  if (roundTripMs < LONG_LINK_MS) return undefined;
  return Math.min(RECEIVE_WINDOW, Math.ceil(STREAM_BYTES_PER_MS * roundTripMs));
}

const STREAM_BYTES_PER_MS = (320 * 1024 * 1024) / 1000;
