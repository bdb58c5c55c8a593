import type { RetryPolicy } from '../core/retry.js';
import { classify } from '../errors/classify.js';
import { listRemoteDir, type ListingBounds, type RemoteListing } from '../remote/scan.js';
import { openSession, type Session } from '../ssh/connect.js';
import type { ConnectSpec } from '../ssh/spec.js';
import { retrying } from './retrying.js';

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

  constructor(session: Session, spec: ConnectSpec, retry: RetryPolicy, signal: AbortSignal | undefined, bounds: ListingBounds) {
    this.#session = session;
    this.#spec = spec;
    this.#retry = retry;
    this.#signal = signal;
    this.#bounds = bounds;
  }

  async list(root: string, dir: string, notice: (message: string) => void): Promise<RemoteListing> {
    let listing: RemoteListing | undefined;
    await retrying({ retry: this.#retry, signal: this.#signal }, 'listing again', notice, async () => {
      try {
        listing = await listRemoteDir((await this.#current()).sftp, root, dir, this.#bounds);
        return { failure: undefined, progressed: true };
      } catch (error) {
        // A request failed because the link died: the link's reason says more than the request's.
        const reason = this.#session.closeReason();
        return { failure: reason ? await reason : classify(error), progressed: false };
      }
    });
    return listing as RemoteListing;
  }

  close(): void {
    this.#session.close();
  }

  /** The open session, or a new one over the same route when the last one died. */
  async #current(): Promise<Session> {
    if (this.#session.closeReason() === undefined) return this.#session;
    this.#reopening ??= openSession(this.#spec, { trust: this.#session.trust, ...(this.#signal ? { signal: this.#signal } : {}) }).finally(() => {
      this.#reopening = undefined;
    });
    this.#session = await this.#reopening;
    return this.#session;
  }
}
