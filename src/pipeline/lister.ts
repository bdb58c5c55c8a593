import type { RetryPolicy } from '../core/retry.js';
import { classify } from '../errors/classify.js';
import { listRemoteDir, type ListingBounds, type RemoteListing } from '../remote/scan.js';
import type { RemoteTree } from '../remote/treeListing.js';
import { openSession, type Session } from '../ssh/connect.js';
import type { ConnectSpec } from '../ssh/spec.js';
import { GsyncError } from '../errors/GsyncError.js';
import { StallWatch } from '../transfer/stallWatch.js';
import { retrying, type RetryInfo } from './retrying.js';

/**
 * The main connection, used for listing directories: when the link drops, it is opened again
 * (same route, pinned host keys, the login that worked: nobody is asked twice) and the listing
 * tried again with backoff, as worker connections are. `--retries` listings in a row that fail
 * end the run.
 */
export class Lister {
  #session: Session;
  /** One reconnection at a time: directories are listed concurrently and all see the same drop. */
  #reopening: Promise<Session> | undefined;
  readonly #spec: ConnectSpec;
  readonly #retry: RetryPolicy;
  readonly #signal: AbortSignal | undefined;
  readonly #bounds: ListingBounds;
  readonly #stallTimeoutMs: number;
  /** Entries listed so far in this run, and the most it may list: a server inventing directories without end is cut off. */
  #listed = 0;
  readonly #maxTotal: number;
  readonly #onReceived: ((bytes: number) => void) | undefined;
  #closed = false;
  /** Listings begun before the walk (listAhead), by directory: each is taken by the walk's list() of it. */
  readonly #ahead = new Map<string, Promise<RemoteListing | undefined>>();
  /** The whole tree in one stream (treeListing.ts), if asked for: a directory it has is not asked for again. */
  #tree: Promise<RemoteTree | undefined> | undefined;

  constructor(
    session: Session,
    spec: ConnectSpec,
    retry: RetryPolicy,
    signal: AbortSignal | undefined,
    bounds: ListingBounds & { readonly maxTotalEntries: number },
    stallTimeoutMs: number,
    onReceived?: (bytes: number) => void,
  ) {
    this.#session = session;
    this.#spec = spec;
    this.#retry = retry;
    this.#signal = signal;
    this.#bounds = bounds;
    this.#stallTimeoutMs = stallTimeoutMs;
    this.#maxTotal = bounds.maxTotalEntries;
    this.#onReceived = onReceived;
  }

  /** A listing of `dir` begun before this lister (listAhead): list() takes it instead of asking again, unless it failed. */
  adopt(dir: string, listing: Promise<RemoteListing | undefined>): void {
    this.#ahead.set(dir, listing);
  }

  /**
   * The tree under the root, listed in one stream: list() takes a directory's listing from it once
   * it has come whole, and lists by SFTP what it does not have (undefined: none of it).
   */
  adoptTree(tree: Promise<RemoteTree | undefined>): void {
    this.#tree = tree;
  }

  async list(root: string, dir: string, notice: (message: string, retry: RetryInfo) => void): Promise<RemoteListing> {
    if (this.#listed >= this.#maxTotal) return this.#pastTotal(dir);
    const ahead = this.#ahead.get(dir);
    this.#ahead.delete(dir);
    let listing = (await ahead) ?? (await this.#tree)?.take(dir);
    if (!listing) {
      await retrying({ retry: this.#retry, signal: this.#signal }, 'listing again', notice, async () => {
        // --timeout, as for transfers: a server that stops answering a listing is cut off and asked again.
        const watch = new StallWatch(this.#stallTimeoutMs);
        try {
          listing = await watchedListing(await this.connection(), root, dir, this.#bounds, watch);
          return { failure: undefined, progressed: true };
        } catch (error) {
          if (watch.stalled) return { failure: stalledListing(this.#spec, dir, watch.timeoutMs), progressed: false };
          // A request failed because the link died: the link's reason says more than the request's.
          const reason = this.#session.closeReason();
          return { failure: reason ? await reason : classify(error), progressed: false };
        }
      });
    }
    const listed = listing as RemoteListing;
    this.#listed += listed.entries.length;
    return this.#listed > this.#maxTotal ? this.#pastTotal(dir) : listed;
  }

  #pastTotal(dir: string): RemoteListing {
    const message = `not listed: the run reached ${this.#maxTotal} entries in all (--max-entries raises the limit)`;
    return { entries: [], problems: [{ path: dir, stage: 'scan', code: 'too-large', message }] };
  }

  /** Hangs up, for good: a listing or task still under way fails at once, and none opens another connection. */
  close(): void {
    this.#closed = true;
    this.#session.close();
  }

  /**
   * The listing connection: the open one, or a new one over the same route when the last one
   * died or was torn down for stalling. The pool's main lane fetches over it too.
   */
  async connection(): Promise<Session> {
    if (this.#closed) throw new GsyncError('interrupted', `the connection to ${this.#spec.alias} was closed: the run is stopping`);
    if (!this.#session.closed()) return this.#session;
    this.#reopening ??= openSession(this.#spec, {
      trust: this.#session.trust,
      answerTimeoutMs: this.#stallTimeoutMs,
      ...(this.#signal ? { signal: this.#signal } : {}),
      ...(this.#onReceived ? { onReceived: this.#onReceived } : {}),
    }).finally(() => {
      this.#reopening = undefined;
    });
    this.#session = await this.#reopening;
    return this.#session;
  }
}

/**
 * One attempt at listing `dir`, begun before the run is ready to walk (its root, while the root's
 * STAT is answered and the destination is made ready): a Lister adopts it. No retry: a failure is
 * undefined, and the walk lists it again as it would have. A stall closes the session, as the
 * Lister does, so that the walk's listing opens another.
 */
export function listAhead(session: Session, root: string, dir: string, bounds: ListingBounds, stallTimeoutMs: number): Promise<RemoteListing | undefined> {
  return watchedListing(session, root, dir, bounds, new StallWatch(stallTimeoutMs)).catch(() => undefined);
}

/** One listing under --timeout: a server that stops answering has its connection closed. */
function watchedListing(session: Session, root: string, dir: string, bounds: ListingBounds, watch: StallWatch): Promise<RemoteListing> {
  return watch.guard(
    () => listRemoteDir(session.sftp, root, dir, bounds, () => watch.fed()),
    () => session.close(),
  );
}

function stalledListing(spec: ConnectSpec, dir: string, timeoutMs: number): GsyncError {
  return new GsyncError('timeout', `no answer from ${spec.alias} for ${timeoutMs / 1000} s while listing ${dir || '.'}: the link stalled`, {
    hint: 'run the same command again: finished files are kept (--timeout sets the limit)',
  });
}
