import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, isTransient, type RetryPolicy } from '../core/retry.js';
import { classify } from '../errors/classify.js';
import { listRemoteDir, type RemoteListing } from '../remote/scan.js';
import { openSession, type Session } from '../ssh/connect.js';
import type { ConnectSpec } from '../ssh/spec.js';

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

  constructor(session: Session, spec: ConnectSpec, retry: RetryPolicy, signal: AbortSignal | undefined) {
    this.#session = session;
    this.#spec = spec;
    this.#retry = retry;
    this.#signal = signal;
  }

  async list(root: string, dir: string, notice: (message: string) => void): Promise<RemoteListing> {
    for (let failures = 0; ; ) {
      try {
        return await listRemoteDir((await this.#current()).sftp, root, dir);
      } catch (error) {
        const reason = this.#session.closeReason();
        const failure = reason ? await reason : classify(error);
        failures++;
        if (!isTransient(failure.kind) || failures > this.#retry.retries || this.#signal?.aborted) throw failure;
        const wait = backoffMs(failures - 1, this.#retry, Math.random());
        notice(`${failure.message}; listing again in ${(wait / 1000).toFixed(1)} s (${failures} of ${this.#retry.retries})`);
        await sleep(wait, undefined, this.#signal ? { signal: this.#signal } : {});
      }
    }
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
