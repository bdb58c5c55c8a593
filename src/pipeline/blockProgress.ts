import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { AtRiskBudget } from '../transfer/atRisk.js';
import type { BlockRecord, BlocksDone } from '../transfer/protocol.js';

/** Where a block task's reports go: the state file, for one file. */
export type RecordBlocks = (blocks: readonly BlockRecord[]) => void;

/**
 * The main thread's end of a block task's progress port: each block the task wrote is
 * recorded as its message lands, so a kill loses only what was in flight, and the room the
 * block held in the run's at-risk budget is given back then, not before. The task's
 * result comes back on another port, and messages on two ports keep no order between them: a
 * worker's last blocks (the ones it wrote as its link broke) were usually still queued
 * here when its result arrived, and closing the port dropped them. The retry then counted the
 * attempt as moving nothing, and fetched those blocks again. `finish` takes what is queued first.
 */
export class BlockProgress {
  /** Handed to the task (and moved to its worker). */
  readonly port: MessagePort;
  readonly #own: MessagePort;
  readonly #record: RecordBlocks;
  readonly #atRisk: AtRiskBudget;
  #failure: unknown;
  #closed = false;

  constructor(record: RecordBlocks, atRisk: AtRiskBudget) {
    const { port1, port2 } = new MessageChannel();
    this.#own = port1;
    this.port = port2;
    this.#record = record;
    this.#atRisk = atRisk;
    port1.on('message', (message: BlocksDone) => this.#take(message));
  }

  /**
   * Records what is still queued and closes the port (again: nothing). Returns the first failure
   * to record, if any: the state file's disk is full, and those blocks are fetched again next run.
   */
  finish(): unknown {
    if (!this.#closed) {
      for (let left = receiveMessageOnPort(this.#own); left; left = receiveMessageOnPort(this.#own)) this.#take(left.message as BlocksDone);
      this.#own.close();
      this.#closed = true;
    }
    return this.#failure;
  }

  #take(message: BlocksDone): void {
    if (!Array.isArray(message?.blocks)) return;
    try {
      if (this.#failure === undefined) this.#record(message.blocks);
    } catch (error) {
      this.#failure = error;
    } finally {
      // Recorded, or never to be: either way no longer at risk.
      if (Number.isSafeInteger(message.room) && message.room > 0) this.#atRisk.give(message.room);
    }
  }
}
