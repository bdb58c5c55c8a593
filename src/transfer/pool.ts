import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { GsyncError } from '../errors/GsyncError.js';
import { isTaskResult, type BlockTask, type FetchTask, type HangUpMessage, type TarTask, type TaskResult, type WorkerInit } from './protocol.js';

/** How long closing waits for workers to hang up their connections. */
const HANG_UP_WAIT_MS = 1000;

/**
 * The piscina worker pool. Each worker owns one SSH connection, so the pool size is the
 * connection count. Workers own sockets: atomics 'disabled' keeps an idle worker's event loop
 * running (the default 'sync' freezes it), and they never idle out.
 */
export class TransferPool {
  /** Loaded with the first pool, not with the command: a no-op run never needs it (~30 ms). */
  private readonly piscina: Promise<Piscina>;
  private readonly hangUpChannel = `gsync-hang-up-${randomUUID()}`;
  private readonly connections: number;
  #closing: Promise<void> | undefined;
  /** Tasks handed to piscina and not finished, by the path of their (first) file, oldest first. */
  private readonly running = new Set<{ readonly path: string }>();

  /** Told, a turn after the last task in flight ended, that none is left (its results handed on by then). */
  private readonly onDrained: (() => void) | undefined;

  constructor(init: Omit<WorkerInit, 'hangUpChannel'>, connections: number, onDrained?: () => void) {
    this.connections = connections;
    this.onDrained = onDrained;
    this.piscina = import('piscina').then(
      ({ Piscina }) =>
        new Piscina({
          filename: new URL('./worker.js', import.meta.url).href,
          minThreads: connections,
          maxThreads: connections,
          idleTimeout: Infinity,
          atomics: 'disabled',
          workerData: { ...init, hangUpChannel: this.hangUpChannel } satisfies WorkerInit,
        }),
    );
  }

  async run(task: FetchTask | BlockTask | TarTask): Promise<TaskResult> {
    const running = { path: task.kind === 'blocks' ? task.file.path : (task.files[0]?.path ?? '') };
    this.running.add(running);
    try {
      // A block task's progress port moves to the worker.
      const result: unknown = await (await this.piscina).run(task, task.kind === 'blocks' ? { transferList: [task.progress] } : {});
      if (!isTaskResult(result)) throw new GsyncError('protocol', 'a transfer worker returned a malformed result');
      return result;
    } finally {
      this.running.delete(running);
      if (this.onDrained && this.running.size === 0) {
        setImmediate(() => {
          if (this.running.size === 0) this.onDrained?.();
        });
      }
    }
  }

  /** The file of the oldest task not finished: piscina runs tasks in order, so a worker is on it. A progress line calls it current. */
  current(): string | undefined {
    return this.running.values().next().value?.path;
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
    const piscina = await this.piscina;
    const channel = new BroadcastChannel(this.hangUpChannel);
    let replies = 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HANG_UP_WAIT_MS);
      channel.onmessage = (event): void => {
        if ((event as { data: unknown }).data === 'hung-up' && ++replies === this.connections) {
          clearTimeout(timer);
          resolve();
        }
      };
      channel.postMessage('hang-up' satisfies HangUpMessage);
    });
    channel.close();
    await piscina.destroy();
  }
}

/**
 * One core is left for the main thread (listing, commits) and whatever else runs: on the 2-core
 * project box a second connection cost its own thread start-up and handshake and made 2,000
 * small files slower (1.53 s → 1.22 s with one). Long links want more: --connections.
 */
export function defaultConnections(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
