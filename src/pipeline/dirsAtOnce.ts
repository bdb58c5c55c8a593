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
