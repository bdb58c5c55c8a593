import { BroadcastChannel, workerData } from 'node:worker_threads';
import { GsyncError } from '../errors/GsyncError.js';
import { openSession, type Session } from '../ssh/connect.js';
import { AtRiskBudget } from './atRisk.js';
import { ByteMeter } from './meter.js';
import type { BlockTask, FetchTask, PoolMessage, TarTask, TaskResult, WorkerInit } from './protocol.js';
import { TaskRunner } from './taskRunner.js';

const init = workerData as WorkerInit;
let session: Promise<Session> | undefined;
const meter = new ByteMeter(init.meter);
const atRisk = new AtRiskBudget(init.atRisk);
/** A login still under way when the pool closes is given up, not waited for. */
const hangingUp = new AbortController();
const closed = new Int32Array(init.closed);
/** Set by the pool before it sends the hang-up, so also true once that message came. */
const poolClosed = (): boolean => Atomics.load(closed, 0) === 1;

const control = new BroadcastChannel(init.controlChannel);
control.unref();
control.onmessage = (event): void => {
  if ((event as { data: unknown }).data === 'hang-up') hangUp();
};

function hangUp(): void {
  // Once: a thread that started late may both read the flag and hear the message.
  if (hangingUp.signal.aborted) return;
  hangingUp.abort();
  const closing = session;
  session = undefined;
  void (closing ?? Promise.resolve(undefined))
    .then((s) => s?.close(), () => undefined)
    .then(() => control.postMessage('hung-up' satisfies PoolMessage));
}

/**
 * This worker's own connection (an ssh2 client cannot cross threads), opened on first use and
 * again after it died: a dead client's SFTP requests would never be answered.
 */
async function connection(): Promise<Session> {
  // One still being opened (at start-up) is this task's: if it fails, so does the task, which
  // is retried as any, rather than waiting out a second login's timeout right behind it.
  const open = await session;
  if (open && !open.closed()) return open;
  // No new connection once the pool closes: nobody would hang it up.
  if (poolClosed()) throw new GsyncError('interrupted', 'the transfer pool is closing');
  session = openSession(init.spec, {
    trust: init.trust,
    answerTimeoutMs: init.stallTimeoutMs,
    onReceived: (bytes) => meter.addWire(bytes),
    signal: hangingUp.signal,
  });
  session.catch(() => (session = undefined));
  return session;
}

const runner = new TaskRunner(
  {
    connection,
    discard: (stalled) => {
      // The next task opens a new connection.
      session = undefined;
      stalled.close();
    },
  },
  { alias: init.spec.alias, stallTimeoutMs: init.stallTimeoutMs, meter, atRisk, ...(init.bandwidth ? { bandwidth: init.bandwidth } : {}) },
);

// The pool closed while this thread was starting: the hang-up went out before anyone listened.
if (poolClosed()) {
  hangUp();
} else {
  // Workers start because there is something to fetch: the handshake starts with the thread, not
  // with its first task (on a 20 ms link that is ten round trips off the first file). Until one
  // worker says it is connected, the pool hands tasks to the main thread's connection.
  void connection().then(
    () => control.postMessage('connected' satisfies PoolMessage),
    () => undefined,
  );
}

export default function runTask(task: FetchTask | BlockTask | TarTask): Promise<TaskResult> {
  return runner.run(task);
}
