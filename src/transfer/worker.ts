import { closeSync } from 'node:fs';
import { BroadcastChannel, workerData } from 'node:worker_threads';
import { classify } from '../errors/classify.js';
import { GsyncError } from '../errors/GsyncError.js';
import { readRemoteFile, type ReadLoopOptions } from '../remote/readLoop.js';
import { openSession, type Session } from '../ssh/connect.js';
import { TokenBucket } from './bandwidth.js';
import { fetchBlocks } from './blockFetch.js';
import { failedResult, readResult } from './fileOutcome.js';
import { ByteMeter } from './meter.js';
import { openPartial } from './partialFile.js';
import { StallWatch } from './stallWatch.js';
import type { BlockTask, FetchTask, FileResult, FileTask, HangUpMessage, TarTask, TaskResult, WorkerInit } from './protocol.js';
import { fetchByTar } from './tarFetch.js';

/**
 * Files of one task copied at once: a small file costs 2 round trips (OPEN, then its READs and
 * FSTAT together; the CLOSE is not waited for), so many at once keep the channel full: a whole
 * task (batch.ts: 64 files) in one go. Each holds at most one buffer per READ in flight.
 */
const FILES_AT_ONCE = 64;

const init = workerData as WorkerInit;
let session: Promise<Session> | undefined;
const watch = new StallWatch(init.stallTimeoutMs);
const meter = new ByteMeter(init.meter);
/** How every READ of this worker is sized and paced: with --bwlimit, by the run's shared budget; without it, untouched. */
const reads = readOptions(init);

const hangUp = new BroadcastChannel(init.hangUpChannel);
hangUp.unref();
hangUp.onmessage = (event): void => {
  if ((event as { data: unknown }).data !== 'hang-up') return;
  const closing = session;
  session = undefined;
  void (closing ?? Promise.resolve(undefined))
    .then((s) => s?.close(), () => undefined)
    .then(() => hangUp.postMessage('hung-up' satisfies HangUpMessage));
};

/**
 * This worker's own connection (an ssh2 client cannot cross threads), opened on first use and
 * again after it died: a dead client's SFTP requests would never be answered.
 */
async function connection(): Promise<Session> {
  // One still being opened (at start-up) is this task's: if it fails, so does the task, which
  // is retried as any, rather than waiting out a second login's timeout right behind it.
  const open = await session;
  if (open && !open.closed()) return open;
  session = openSession(init.spec, { trust: init.trust, answerTimeoutMs: init.stallTimeoutMs, onReceived: (bytes) => meter.addWire(bytes) });
  session.catch(() => (session = undefined));
  return session;
}

// A pool exists because there is something to fetch: the handshake starts with the thread, not
// with its first task (on a 20 ms link that is ten round trips off the first file).
void connection().catch(() => undefined);

/**
 * Copies each file of the task into its partial path (or the missing blocks of one big file);
 * per-file refusals are results, a broken link ends the task.
 */
export default async function runTask(task: FetchTask | BlockTask | TarTask): Promise<TaskResult> {
  const files: FileResult[] = [];
  let tarUsable: boolean | undefined;
  let current: Session | undefined;
  try {
    current = await connection();
    const { sftp } = current;
    const open = current;
    await watch.guard(
      async () => {
        if (task.kind === 'blocks') {
          files.push(await fetchBlocks(sftp, task, reads));
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
            if (file) files.push(await fetchOne(sftp, file));
          }
        };
        await Promise.all(Array.from({ length: Math.min(FILES_AT_ONCE, task.files.length) }, lane));
      },
      () => {
        // The next task opens a new connection.
        session = undefined;
        open.close();
      },
    );
    return { kind: 'done', files, ...(tarUsable === undefined ? {} : { tarUsable }) };
  } catch (error) {
    return { kind: 'fatal', files, error: describe(await whyFailed(current, error)) };
  }
}

/** A request failed because the link died or stalled: the link's reason says more than the request's. */
async function whyFailed(current: Session | undefined, error: unknown): Promise<unknown> {
  if (watch.stalled) {
    return new GsyncError('timeout', `no data from ${init.spec.alias} for ${watch.timeoutMs / 1000} s: the link stalled`, {
      hint: 'run the same command again: finished files and blocks are kept (--timeout sets the limit)',
    });
  }
  const reason = current?.closeReason();
  return reason ? await reason : error;
}

/** Local calls here are synchronous on purpose: see readLoop.ts. */
async function fetchOne(sftp: Session['sftp'], file: FileTask): Promise<FileResult> {
  const fd = openPartial(file.partialPath, 'fresh');
  try {
    return readResult(fd, file, await readRemoteFile(sftp, file.remotePath, fd, file, reads));
  } catch (error) {
    return failedResult(file, error);
  } finally {
    closeSync(fd);
  }
}

function readOptions({ bandwidth }: WorkerInit): Pick<ReadLoopOptions, 'throttle'> & { onData: (bytes: number) => void } {
  // Bytes of a file arrived: the link is alive, and the run's progress moves.
  const onData = (bytes: number): void => {
    watch.fed();
    meter.addPayload(bytes);
  };
  if (!bandwidth) return { onData };
  const budget = new TokenBucket(bandwidth);
  // Waiting on our own budget is not the server stalling.
  return { onData, throttle: (wanted) => watch.holding(budget.take(wanted)) };
}

function describe(error: unknown): Extract<TaskResult, { kind: 'fatal' }>['error'] {
  const { kind, message, hint, errno } = classify(error);
  return { kind, message, ...(hint === undefined ? {} : { hint }), ...(errno === undefined ? {} : { errno }) };
}
