import type { GsyncError } from '../errors/GsyncError.js';
import type { TransferPool } from '../transfer/pool.js';
import type { FileResult, FileTask } from '../transfer/protocol.js';
import { taskFailure } from './retrying.js';

export interface TarLaneLimits {
  /** Files in one tar task: many, since each channel of it costs a process start on the server. */
  readonly maxFiles: number;
  /** Bytes in one tar task, by the listing: what a kill in the middle of one can cost. */
  readonly maxBytes: number;
  /** Tasks handed to the pool and not finished: one at work, one waiting, so no worker idles between them. */
  readonly inFlight: number;
  /** How long files wait for company (directories listed a little later) before a short task goes. */
  readonly lingerMs: number;
  /** Fewer files than this are not worth a process on the server: SFTP takes them. */
  readonly minFiles: number;
  /**
   * How long too few files wait for directories still to come before SFTP takes them anyway: a
   * directory whose listing stalls must not hold back the others' files. About what a worker's
   * start and login took over a 20 ms round trip (0.35 s): waiting longer could only lose.
   */
  readonly companyMs: number;
}

/**
 * 20,000 files of 1–16 KiB, loopback sshd to a journaled ext4: 64 a task 4.7 s, 256 2.4 s,
 * 1,024 1.4 s. The bench's mixed set (50 small files in each of 20 directories beside a
 * checkpoint) took 6.3 s sent as a task per directory, against 4.9 s by SFTP alone.
 */
export const defaultTarLaneLimits: TarLaneLimits = { maxFiles: 1024, maxBytes: 8 * 1024 * 1024, inFlight: 2, lingerMs: 25, minFiles: 64, companyMs: 300 };

/** What tar did for some files: those it fetched, and the link's failure if the link failed under it. */
export interface TarOutcome {
  readonly fetched: ReadonlySet<string>;
  /** The first attempt's failure, for the files' retries to count: the link, not tar. */
  readonly failure: GsyncError | undefined;
}

interface Waiting {
  readonly task: FileTask;
  readonly settle: (fetched: boolean, failure?: GsyncError) => void;
}

/**
 * The small files of every directory being pulled, gathered into tar tasks (tarFetch.ts): a
 * directory of 100 files alone would pay a server process start per 100 files. A full task goes
 * at once; a short one once its oldest file has waited `lingerMs` and fewer than `inFlight` are
 * out, and only if it has `minFiles`; fewer wait for the directories still to come, and SFTP
 * takes them once none is (or after `companyMs`). An answer that is no well-formed
 * archive means the server has no tar that answers as expected (no exec, no GNU tar, a
 * restricted shell, a hostile stream): the lane closes for the run, and all goes by SFTP.
 */
export class TarLane {
  readonly #pool: () => TransferPool;
  readonly #limits: TarLaneLimits;
  #waiting: Waiting[] = [];
  #waitingBytes = 0;
  #out = 0;
  #open = true;
  #timer: NodeJS.Timeout | undefined;
  /**
   * When the files waiting began to wait (near enough: when the lane last had none, or last sent
   * a short task): after `lingerMs`, what waits may go short.
   */
  #waitingSince: number | undefined;
  /** Directories that may still hand files over: while there are none, nothing lingers. */
  #coming = 0;

  constructor(pool: () => TransferPool, limits: TarLaneLimits = defaultTarLaneLimits) {
    this.#pool = pool;
    this.#limits = limits;
  }

  /**
   * A directory is on its way (queued to be walked): its small files may join a task. Call what
   * this returns once it has handed its files over, or never will (repeats do nothing). Once no
   * directory is on its way, a short task goes at once: over a 20 ms round trip, the lingering
   * after the last listing was 25 ms of a 0.8 s pull of 100 files.
   */
  expect(): () => void {
    this.#coming++;
    let pending = true;
    return () => {
      if (!pending) return;
      pending = false;
      if (--this.#coming === 0) this.#schedule();
    };
  }

  /** Fetches what it can into the files' partials; the rest are SFTP's to copy. */
  async fetch(tasks: readonly FileTask[]): Promise<TarOutcome> {
    if (!this.#open || tasks.length === 0) return { fetched: new Set(), failure: undefined };
    const settled = tasks.map(
      (task) => new Promise<{ fetched: boolean; failure?: GsyncError }>((resolve) => this.#waiting.push({ task, settle: (fetched, failure) => resolve({ fetched, ...(failure ? { failure } : {}) }) })),
    );
    for (const task of tasks) this.#waitingBytes += task.size;
    this.#schedule();
    const outcomes = await Promise.all(settled);
    return {
      fetched: new Set(tasks.filter((_, i) => outcomes[i]?.fetched).map((task) => task.path)),
      failure: outcomes.find((o) => o.failure)?.failure,
    };
  }

  #schedule(): void {
    while (this.#waiting.length >= this.#limits.maxFiles || this.#waitingBytes >= this.#limits.maxBytes) this.#send();
    if (this.#waiting.length === 0) {
      this.#waitingSince = undefined;
      return;
    }
    const now = Date.now();
    this.#waitingSince ??= now;
    const waited = now - this.#waitingSince;
    if (this.#coming === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (waited < this.#limits.lingerMs) {
      this.#wake(this.#limits.lingerMs - waited);
      return;
    }
    if (this.#out >= this.#limits.inFlight) return;
    if (this.#waiting.length >= this.#limits.minFiles) {
      this.#send();
      // What that task left out waits a linger of its own.
      this.#waitingSince = now;
    } else if (this.#coming === 0 || waited >= this.#limits.companyMs) {
      for (const w of this.#waiting.splice(0)) w.settle(false);
      this.#waitingBytes = 0;
    } else {
      // Too few for a tar of their own, and a directory still to come may add to them. SFTP
      // would cost more than the wait: over a 20 ms round trip, the two files of a root sent by
      // SFTP while its one subdirectory was listed started a worker, and a pull of 102 files took
      // 0.94 s instead of 0.71.
      this.#wake(this.#limits.companyMs - waited);
      return;
    }
    this.#schedule();
  }

  /** Schedules again in `ms`, unless a wake-up is due already. */
  #wake(ms: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#schedule();
    }, ms);
  }

  /** The run stops: directories still queued will hand nothing over, and whatever waits goes to SFTP (which stops too). */
  stop(): void {
    this.#close();
  }

  #send(): void {
    let count = 0;
    let bytes = 0;
    for (const { task } of this.#waiting) {
      if (count === this.#limits.maxFiles || (count > 0 && bytes + task.size > this.#limits.maxBytes)) break;
      count++;
      bytes += task.size;
    }
    const batch = this.#waiting.splice(0, count);
    this.#waitingBytes -= bytes;
    this.#out++;
    void this.#pool()
      .run({ kind: 'tar', files: batch.map((w) => w.task) })
      .then(
        (result) => ({ fetched: fetchedIn(result.files), unusable: result.kind === 'done' && result.tarUsable === false, failure: taskFailure(result) }),
        () => ({ fetched: new Set<string>(), unusable: false, failure: undefined }),
      )
      .then(({ fetched, unusable, failure }) => {
        this.#out--;
        // A link that failed says nothing about tar (SFTP's retries take these), nor does a file
        // tar could not read; only an answer that was no archive closes the lane.
        if (unusable) this.#close();
        for (const waiting of batch) waiting.settle(fetched.has(waiting.task.path), failure);
        this.#schedule();
      });
  }

  /** No more tar this run: whatever waits goes by SFTP. */
  #close(): void {
    this.#open = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#waitingBytes = 0;
    for (const w of waiting) w.settle(false);
  }
}

function fetchedIn(files: readonly FileResult[]): Set<string> {
  return new Set(files.filter((f) => f.kind === 'fetched').map((f) => f.path));
}
