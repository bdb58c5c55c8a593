import { joinRelative } from '../core/names.js';
import type { LocalEntry } from '../core/types.js';
import { STATE_DIR_NAME, type Destination } from './paths.js';
import { listLocalDir } from './scan.js';

/**
 * The destination's directories, listed before the walk reaches them: while a re-run waits for
 * the remote tree's one stream (treeListing.ts), the main thread sat idle ~40 of ~70 ms, and the
 * walk then read 20,000 local entries (~60 ms) after it. Listed breadth first, in the walk's
 * order, in slices of a few ms so the stream's data is not kept waiting. The slices run only
 * while the walk waits on the server: once the stream is in, the walk goes from one resolved
 * promise to the next, never back to the event loop, and what is not listed by then it lists
 * itself, through take() (a no-op re-run of 20,000 entries: 2,000 to 13,000 listed ahead).
 *
 * Only a directory the walk has not begun is listed, and the walk takes each listing once: until
 * a directory's own walk begins, this run writes nothing into it (its parent makes or opens it,
 * and renames its own files), so the listing is the one the walk would have read. It stops at
 * `maxEntries` (a huge mirror keeps what was listed; the walk lists the rest) and when stopped. A
 * directory the walk asks for before its turn is listed then, as the walk would have. One it
 * cannot read is left for the walk, which says why.
 */
export class LocalListingAhead {
  readonly #destination: Destination;
  readonly #listed = new Map<string, LocalEntry[]>();
  /** Directories found (queued) and not listed yet. */
  readonly #found = new Set<string>(['']);
  readonly #queue: string[] = [''];
  #entries = 0;
  readonly #maxEntries: number;
  #timer: NodeJS.Immediate | undefined;
  #stopped = false;

  /** Lists the root at once (the walk begins there now), and what it holds in the turns to come. */
  constructor(destination: Destination, maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#destination = destination;
    this.#maxEntries = maxEntries;
    this.#listNext();
    this.#goOn();
  }

  /**
   * `dir`'s listing (relative; '' is the root), once. One found but not listed yet is listed now,
   * so that what it holds joins the queue. Undefined for one never found (the walk makes it, or
   * it is not a directory here), and once stopped: the walk lists those itself.
   */
  take(dir: string): LocalEntry[] | undefined {
    const listing = this.#listed.get(dir);
    if (listing) {
      this.#listed.delete(dir);
      return listing;
    }
    if (this.#stopped || !this.#found.has(dir)) return undefined;
    return this.#list(dir);
  }

  /** Lists no more, and lets go of what the walk did not take. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearImmediate(this.#timer);
    this.#timer = undefined;
    this.#listed.clear();
    this.#found.clear();
    this.#queue.length = 0;
  }

  #slice(): void {
    this.#timer = undefined;
    const until = performance.now() + SLICE_MS;
    while (this.#going() && performance.now() < until) this.#listNext();
    this.#goOn();
  }

  #going(): boolean {
    return !this.#stopped && this.#queue.length > 0 && this.#entries < this.#maxEntries;
  }

  /** The next slice, in a later turn of the event loop, if there is more to list. */
  #goOn(): void {
    if (this.#going()) this.#timer = setImmediate(() => this.#slice());
  }

  #listNext(): void {
    const dir = this.#queue.shift() as string;
    // Taken (and listed) by the walk since it was queued.
    if (!this.#found.has(dir)) return;
    const entries = this.#list(dir);
    if (entries) this.#listed.set(dir, entries);
  }

  /**
   * Lists a directory found and not listed yet, and queues its subdirectories; undefined if it
   * cannot be read or has a name the walk would refuse (the walk says why).
   */
  #list(dir: string): LocalEntry[] | undefined {
    this.#found.delete(dir);
    let entries: LocalEntry[];
    try {
      entries = listLocalDir(this.#destination.pathOf(dir), dir === '' ? STATE_DIR_NAME : undefined);
    } catch {
      return undefined;
    }
    this.#entries += entries.length;
    if (this.#entries >= this.#maxEntries) return entries;
    // In the walk's order (names sorted as a remote listing is), so it finds them ready in turn.
    const subdirs = entries.filter((e) => e.kind === 'dir').map((e) => joinRelative(dir, e.name));
    for (const sub of subdirs.sort()) {
      this.#found.add(sub);
      this.#queue.push(sub);
    }
    return entries;
  }
}

/** As many as the remote tree's one stream holds (treeListing.ts): ~12 MiB of listings at most. */
const DEFAULT_MAX_ENTRIES = 100_000;
/** Long enough to list a directory or two, short enough not to hold the stream's data back. */
const SLICE_MS = 3;
