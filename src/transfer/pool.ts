import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { GsyncError } from '../errors/GsyncError.js';
import { isTaskResult, type BlockTask, type FetchTask, type PoolMessage, type TarTask, type TaskResult, type WorkerInit } from './protocol.js';
import type { TaskRunner } from './taskRunner.js';

/** How long closing waits for workers to hang up their connections. */
const HANG_UP_WAIT_MS = 1000;

/**
 * What the main thread's connection takes on at once while no worker is logged in: the tasks
 * hold that thread (decrypting, writing), and the listing and commits wait for them. A checkpoint
 * of 50 MiB took 0.17 s there. A bigger task waits for a worker.
 */
const MAIN_LANE_BYTES = 64 * 1024 * 1024;
const MAIN_LANE_TASKS = 2;

export interface PoolOptions {
  /** Workers, each with its own SSH connection. */
  readonly connections: number;
  /** Told, a turn after the last task in flight ended, that none is left (its results handed on by then). */
  readonly onDrained?: () => void;
  /**
   * The run's first connection, on the main thread: it takes tasks until the first worker is
   * logged in. A worker's thread start and login took 0.14 s on a LAN and 0.35 s on a 20 ms round
   * trip, while the first connection sat idle after listing. The workers start only once it
   * cannot take a task: on 2 cores, a worker starting beside a transfer slowed both, and a small
   * change needs none. A promise: its code loads with the pool, and a no-op run needs none of it.
   */
  readonly mainLane?: Promise<TaskRunner>;
  /**
   * A first pull: the main lane takes only tar tasks (one exec channel on a connection already
   * open), while each worker keeps its files in the order given. The first other task starts the
   * workers. They used to start with the walk: over a 20 ms round trip, a first pull of 100
   * small files then spent 0.55 s of CPU (a thread and a login it never used) against 0.45 s.
   */
  readonly firstPull?: boolean;
}

/**
 * The piscina worker pool. Each worker owns one SSH connection, so the pool size is the
 * connection count. Workers own sockets: atomics 'disabled' keeps an idle worker's event loop
 * running (the default 'sync' freezes it), and they never idle out.
 */
export class TransferPool {
  readonly #init: Omit<WorkerInit, 'controlChannel' | 'closed'>;
  /** Started by the first task the main lane cannot take; loaded then too: a no-op run never needs it (~30 ms). */
  #piscina: Promise<Piscina> | undefined;
  readonly #controlChannel = `gsync-pool-${randomUUID()}`;
  /** Hears a worker say it is connected; later, carries the hang-up. */
  readonly #control: BroadcastChannel;
  readonly #connections: number;
  #closing: Promise<void> | undefined;
  /** Tasks handed out and not finished, by the path of their (first) file, oldest first. */
  readonly #running = new Set<{ readonly path: string }>();
  readonly #onDrained: (() => void) | undefined;
  /** Cleared for good once a worker is connected: from then on the workers take everything. */
  #mainLane: Promise<TaskRunner> | undefined;
  #mainLaneTasks = 0;
  #mainLaneBytes = 0;
  readonly #firstPull: boolean;
  /** Set when the pool closes: a worker still starting up then reads it instead of a hang-up it could not hear yet. */
  readonly #closed = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

  constructor(init: Omit<WorkerInit, 'controlChannel' | 'closed'>, options: PoolOptions) {
    this.#init = init;
    this.#connections = options.connections;
    this.#onDrained = options.onDrained;
    this.#mainLane = options.mainLane;
    this.#firstPull = options.firstPull ?? false;
    this.#control = new BroadcastChannel(this.#controlChannel);
    this.#control.unref();
    this.#control.onmessage = (event): void => {
      if ((event as { data: unknown }).data === 'connected') this.#mainLane = undefined;
    };
  }

  async run(task: FetchTask | BlockTask | TarTask): Promise<TaskResult> {
    const running = { path: task.kind === 'blocks' ? task.file.path : (task.files[0]?.path ?? '') };
    this.#running.add(running);
    const bytes = bytesOf(task);
    const mainLane = this.#takesOnMainLane(task, bytes) ? this.#mainLane : undefined;
    if (mainLane) {
      this.#mainLaneTasks++;
      this.#mainLaneBytes += bytes;
    }
    try {
      // A block task's progress port moves to the worker.
      const result: unknown = mainLane
        ? await (await mainLane).run(task)
        : await (await this.#workers()).run(task, task.kind === 'blocks' ? { transferList: [task.progress] } : {});
      if (!isTaskResult(result)) throw new GsyncError('protocol', 'a transfer worker returned a malformed result');
      return result;
    } finally {
      if (mainLane) {
        this.#mainLaneTasks--;
        this.#mainLaneBytes -= bytes;
      }
      this.#running.delete(running);
      if (this.#onDrained && this.#running.size === 0) {
        setImmediate(() => {
          if (this.#running.size === 0) this.#onDrained?.();
        });
      }
    }
  }

  #takesOnMainLane(task: FetchTask | BlockTask | TarTask, bytes: number): boolean {
    if (!this.#mainLane || (this.#firstPull && task.kind !== 'tar')) return false;
    return this.#mainLaneTasks < MAIN_LANE_TASKS && this.#mainLaneBytes + bytes <= MAIN_LANE_BYTES;
  }

  #workers(): Promise<Piscina> {
    const connections = this.#connections;
    return (this.#piscina ??= import('piscina').then(
      ({ Piscina }) =>
        new Piscina({
          // From dist/src/transfer/ (this module as tsc emits it) and from dist/src/cli/ (the
          // one-file build, scripts/bundle.ts) alike: the thread's entry is never bundled; it
          // loads the worker's own one-file build (worker.cjs).
          filename: new URL('../transfer/workerThread.js', import.meta.url).href,
          minThreads: connections,
          maxThreads: connections,
          idleTimeout: Infinity,
          atomics: 'disabled',
          workerData: { ...this.#init, controlChannel: this.#controlChannel, closed: this.#closed.buffer } satisfies WorkerInit,
        }),
    ));
  }

  /** The file of the oldest task not finished: tasks run in the order given, so a worker or the main lane is on it. A progress line calls it current. */
  current(): string | undefined {
    return this.#running.values().next().value?.path;
  }

  /**
   * Asks every worker to hang up its connection (bounded: a stuck one is not waited for), then ends
   * the threads. Once: a stopped run closes the pool when the stop comes and again when the walk
   * ends, and a second round of asking would wait its whole second for threads already gone.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    this.#mainLane = undefined;
    Atomics.store(this.#closed, 0, 1);
    const piscina = await this.#piscina;
    if (piscina) await this.#hangUp();
    this.#control.close();
    await piscina?.destroy();
  }

  /** Asks every worker to close its connection, and waits (bounded) for them to say they did. */
  #hangUp(): Promise<void> {
    let replies = 0;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HANG_UP_WAIT_MS);
      this.#control.onmessage = (event): void => {
        if ((event as { data: unknown }).data === 'hung-up' && ++replies === this.#connections) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.#control.postMessage('hang-up' satisfies PoolMessage);
    });
  }
}

/** The file bytes a task may bring: a block task's span, or its files' sizes. */
function bytesOf(task: FetchTask | BlockTask | TarTask): number {
  if (task.kind !== 'blocks') return task.files.reduce((sum, file) => sum + file.size, 0);
  const { span, blockSize, file } = task;
  return Math.min(file.size, span.end * blockSize) - span.first * blockSize;
}

/**
 * One core is left for the main thread (listing, commits) and whatever else runs: on the 2-core
 * project box a second connection cost its own thread start-up and handshake and made 2,000
 * small files slower (1.53 s → 1.22 s with one). Long links want more: --connections.
 */
export function defaultConnections(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
