import { closeSync } from 'node:fs';
import { classify } from '../errors/classify.js';
import { GsyncError } from '../errors/GsyncError.js';
import { readRemoteFile, type ReadLoopOptions } from '../remote/readLoop.js';
import type { Session } from '../ssh/connect.js';
import type { AtRiskBudget } from './atRisk.js';
import { TokenBucket, type BandwidthShare } from './bandwidth.js';
import { fetchBlocks } from './blockFetch.js';
import { failedResult, readResult } from './fileOutcome.js';
import type { ByteMeter } from './meter.js';
import { openPartial } from './partialFile.js';
import { StallWatch } from './stallWatch.js';
import type { BlockTask, FetchTask, FileResult, FileTask, TarTask, TaskResult } from './protocol.js';
import { fetchByTar } from './tarFetch.js';

/**
 * Files of one task copied at once: a small file costs 2 round trips (OPEN, then its READs and
 * FSTAT together; the CLOSE is not waited for), so many at once keep the channel full: a whole
 * task (batch.ts: 64 files) in one go. Each holds at most one buffer per READ in flight.
 */
const FILES_AT_ONCE = 64;

/** The connection a runner's tasks go over, kept by whoever owns it (a worker, or the main thread's lister). */
export interface TaskLink {
  /** The open connection, or a new one when the last one died. */
  connection(): Promise<Session>;
  /** The link stalled under a task: this connection is torn down, and the next task gets another. */
  discard(session: Session): void;
}

export interface TaskRunnerOptions {
  /** The alias, for the words of a stall. */
  readonly alias: string;
  /** --timeout: a connection that brings no data for this long while a task runs is torn down. */
  readonly stallTimeoutMs: number;
  /** --bwlimit: the run's one budget (absent: no limit, and no cost). */
  readonly bandwidth?: BandwidthShare;
  /** File bytes arrived are added here as payload. */
  readonly meter: ByteMeter;
  /** The run's bytes at risk, shared by every block task on every thread. */
  readonly atRisk: AtRiskBudget;
}

/**
 * Carries out transfer tasks over one connection: a worker's own, or, while the workers are
 * still logging in, the main thread's. Copies each file of a task into its partial path (or the
 * missing blocks of one big file); per-file refusals are results, a broken link ends the task.
 * Local calls are synchronous on purpose: see readLoop.ts.
 */
export class TaskRunner {
  readonly #link: TaskLink;
  readonly #options: TaskRunnerOptions;
  /** Per runner, not per task: the budget's pace holds across this connection's tasks. */
  readonly #budget: TokenBucket | undefined;

  constructor(link: TaskLink, options: TaskRunnerOptions) {
    this.#link = link;
    this.#options = options;
    this.#budget = options.bandwidth ? new TokenBucket(options.bandwidth) : undefined;
  }

  async run(task: FetchTask | BlockTask | TarTask): Promise<TaskResult> {
    const watch = new StallWatch(this.#options.stallTimeoutMs);
    const reads = this.#readOptions(watch);
    const files: FileResult[] = [];
    let tarUsable: boolean | undefined;
    let current: Session | undefined;
    try {
      current = await this.#link.connection();
      const open = current;
      await watch.guard(
        async () => {
          if (task.kind === 'blocks') {
            files.push(await fetchBlocks(open.sftp, task, reads, this.#options.atRisk));
            return;
          }
          if (task.kind === 'tar') {
            const fetched = await fetchByTar(open, task.files, reads.onData);
            files.push(...fetched.files);
            tarUsable = fetched.usable;
            // Files tar did not bring because the link died or stalled are not tar's fault: the task failed.
            const lost = open.closeReason();
            if (watch.stalled || lost) throw (await lost) ?? new Error('the link stalled');
            return;
          }
          let queue = 0;
          const lane = async (): Promise<void> => {
            for (let i = queue++; i < task.files.length; i = queue++) {
              const file = task.files[i];
              if (file) files.push(await fetchOne(open.sftp, file, reads));
            }
          };
          await Promise.all(Array.from({ length: Math.min(FILES_AT_ONCE, task.files.length) }, lane));
        },
        () => this.#link.discard(open),
      );
      return { kind: 'done', files, ...(tarUsable === undefined ? {} : { tarUsable }) };
    } catch (error) {
      return { kind: 'fatal', files, error: describe(await this.#whyFailed(watch, current, error)) };
    }
  }

  /** A request failed because the link died or stalled: the link's reason says more than the request's. */
  async #whyFailed(watch: StallWatch, current: Session | undefined, error: unknown): Promise<unknown> {
    if (watch.stalled) {
      return new GsyncError('timeout', `no data from ${this.#options.alias} for ${watch.timeoutMs / 1000} s: the link stalled`, {
        hint: 'run the same command again: finished files and blocks are kept (--timeout sets the limit)',
      });
    }
    const reason = current?.closeReason();
    return reason ? await reason : error;
  }

  #readOptions(watch: StallWatch): Pick<ReadLoopOptions, 'throttle'> & { onData: (bytes: number) => void } {
    // Bytes of a file arrived: the link is alive, and the run's progress moves.
    const onData = (bytes: number): void => {
      watch.fed();
      this.#options.meter.addPayload(bytes);
    };
    const budget = this.#budget;
    if (!budget) return { onData };
    // Waiting on our own budget is not the server stalling.
    return { onData, throttle: (wanted) => watch.holding(budget.take(wanted)) };
  }
}

async function fetchOne(sftp: Session['sftp'], file: FileTask, reads: Pick<ReadLoopOptions, 'throttle' | 'onData'>): Promise<FileResult> {
  const fd = openPartial(file.partialPath, 'fresh');
  try {
    return readResult(fd, file, await readRemoteFile(sftp, file.remotePath, fd, file, reads));
  } catch (error) {
    return failedResult(file, error);
  } finally {
    closeSync(fd);
  }
}

function describe(error: unknown): Extract<TaskResult, { kind: 'fatal' }>['error'] {
  const { kind, message, hint, errno } = classify(error);
  return { kind, message, ...(hint === undefined ? {} : { hint }), ...(errno === undefined ? {} : { errno }) };
}
