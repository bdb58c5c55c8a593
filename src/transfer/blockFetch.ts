import { closeSync, fdatasync } from 'node:fs';
import type { SFTPWrapper } from 'ssh2';
import { BLOCK_SIZE, blockCount, blockRange, type BlockRange } from '../core/blocks.js';
import { readRemoteFile, type ReadLoopOptions } from '../remote/readLoop.js';
import { ArrivingBlocks, hashRange, hasher } from './blockHash.js';
import { failedResult, readResult } from './fileOutcome.js';
import { AT_RISK_BYTES, type AtRiskBudget } from './atRisk.js';
import { openPartial } from './partialFile.js';
import type { BlockRecord, BlocksDone, BlockTask, FileResult } from './protocol.js';

/**
 * Blocks made durable are reported in groups: one fdatasync and one message per group; the timer
 * bounds a group's wait on a slow link.
 */
const GROUP_BYTES = BLOCK_SIZE;
const GROUP_MS = 100;
const HASH_SLICE = 1024 * 1024;

/**
 * Fetches the blocks of one file that are not in its partial yet. Recorded blocks are re-hashed
 * from disk first; a torn or edited one is fetched again. Each block fetched holds room in the
 * run's at-risk budget from its first READ until it is recorded. Local calls are synchronous, as
 * in the read loop (this thread owns nothing else).
 */
export async function fetchBlocks(sftp: SFTPWrapper, task: BlockTask, reads: Pick<ReadLoopOptions, 'onData' | 'throttle'>, atRisk: AtRiskBudget): Promise<FileResult> {
  const { file } = task;
  const xx = await hasher();
  const scratch = Buffer.allocUnsafe(HASH_SLICE);
  const fd = openPartial(file.partialPath, 'resume');
  // Room this task holds in the run's budget, by block: handed over with the block's report (the
  // main thread gives it back once the state file has the block), or given back when the task ends.
  const holding = new Map<number, number>();
  // Each block's one request for room, awaited by every READ of it (lanes read a block's chunks at once).
  const taking = new Map<number, Promise<boolean>>();
  const handOver = (blocks: readonly BlockRecord[]): number => {
    let room = 0;
    for (const { index } of blocks) {
      room += holding.get(index) ?? 0;
      holding.delete(index);
    }
    return room;
  };
  const reporter = new GroupReporter(fd, task, handOver);
  try {
    const hashOf = (range: BlockRange): string => {
      // Re-hashing a large partial takes a while with no network traffic: it is not a stall.
      reads.onData?.(0);
      return hashRange(xx, fd, range.start, range.length, scratch);
    };
    for (const range of trustedBlocks(task)) reporter.done({ index: range.index, hash: hashOf(range) }, range.length);
    const missing = blocksToFetch(task, hashOf);
    const byIndex = new Map(missing.map((range) => [range.index, range]));
    const arriving = new ArrivingBlocks(xx, missing);
    // READs asked and not answered: while there are some, the server owes data, and a wait for room is no excuse for a stall.
    let asked = 0;
    const waitingForRoom = (): void => {
      if (asked === 0) reads.onData?.(0);
    };
    const outcome = await readRemoteFile(sftp, file.remotePath, fd, file, {
      ranges: missing,
      // The READs in flight follow the link (readsInFlight), and a loaded machine's slow first
      // OPEN can make a LAN look long: they are capped by bytes too.
      maxBytesInFlight: AT_RISK_BYTES,
      ...reads,
      throttle: async (wanted, index, stop) => {
        let room = taking.get(index);
        if (!room) {
          const bytes = byIndex.get(index)?.length ?? wanted;
          room = atRisk.take(bytes, stop, waitingForRoom).then((taken) => {
            if (taken) holding.set(index, bytes);
            return taken;
          });
          taking.set(index, room);
        }
        // Not taken: the read was stopped (it failed), and the lane asks nothing more.
        if (!(await room)) return wanted;
        const length = reads.throttle ? await reads.throttle(wanted, index, stop) : wanted;
        asked++;
        return length;
      },
      // Called once for each READ answered, each asked through throttle above.
      onData: (bytes) => {
        asked--;
        reads.onData?.(bytes);
      },
      onBytes: (index, position, bytes) => arriving.add(index, position, bytes),
      onRange: (index) => {
        const range = byIndex.get(index);
        if (range) reporter.done({ index, hash: arriving.digest(index) ?? hashRange(xx, fd, range.start, range.length, scratch) }, range.length);
      },
    });
    await reporter.flush();
    return readResult(fd, file, outcome);
  } catch (error) {
    // What landed before the link broke is kept: that is what the next attempt resumes from.
    await reporter.flush().catch(() => undefined);
    return failedResult(file, error);
  } finally {
    reporter.stop();
    // Blocks never reported are no longer at risk: this task is over, and the next attempt fetches them again.
    for (const bytes of holding.values()) atRisk.give(bytes);
    closeSync(fd);
  }
}

/** --append: the blocks the old copy already holds, not yet recorded. */
function trustedBlocks(task: BlockTask): BlockRange[] {
  const recorded = new Set(task.recorded.map((b) => b.index));
  const ranges: BlockRange[] = [];
  for (let index = task.span.first; index < task.span.end && (index + 1) * task.blockSize <= task.trustedBytes; index++) {
    if (!recorded.has(index)) ranges.push(blockRange(task.file.size, index, task.blockSize));
  }
  return ranges;
}

/** Every block not recorded (or trusted), or recorded with a hash the partial's bytes no longer have. */
function blocksToFetch(task: BlockTask, hashOf: (range: BlockRange) => string): BlockRange[] {
  const recorded = new Map(task.recorded.map((b) => [b.index, b.hash]));
  const ranges: BlockRange[] = [];
  for (let index = task.span.first; index < Math.min(task.span.end, blockCount(task.file.size, task.blockSize)); index++) {
    if ((index + 1) * task.blockSize <= task.trustedBytes) continue;
    const range = blockRange(task.file.size, index, task.blockSize);
    const hash = recorded.get(index);
    if (hash === undefined || hashOf(range) !== hash) ranges.push(range);
  }
  return ranges;
}

/**
 * Collects finished blocks; makes them durable and reports them a group at a time. The
 * fdatasync runs off this thread (libuv's pool), so reads go on while the disk catches up;
 * only blocks complete before a sync began are reported when it ends.
 */
class GroupReporter {
  readonly #fd: number;
  readonly #task: BlockTask;
  /** The room in the run's budget a group held, handed over with its report. */
  readonly #roomOf: (blocks: readonly BlockRecord[]) => number;
  #pending: BlockRecord[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #failure: Error | undefined;

  constructor(fd: number, task: BlockTask, roomOf: (blocks: readonly BlockRecord[]) => number) {
    this.#fd = fd;
    this.#task = task;
    this.#roomOf = roomOf;
  }

  done(block: BlockRecord, bytes: number): void {
    this.#pending.push(block);
    this.#bytes += bytes;
    if (this.#bytes >= GROUP_BYTES) void this.#sync();
    else this.#timer ??= setTimeout(() => void this.#sync(), GROUP_MS);
  }

  /** Everything done so far, durable and reported; a failed sync (the disk) is thrown here. */
  async flush(): Promise<void> {
    while (!this.#failure && (this.#syncing || this.#pending.length > 0)) await (this.#syncing ?? this.#sync());
    if (this.#failure) throw this.#failure;
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  /** The bytes reach the disk before the records leave: a record never points at lost data. */
  #sync(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#syncing || this.#pending.length === 0) return this.#syncing ?? Promise.resolve();
    const blocks = this.#pending;
    this.#pending = [];
    this.#bytes = 0;
    this.#syncing = new Promise<void>((resolve) => {
      fdatasync(this.#fd, (error) => {
        this.#syncing = undefined;
        // Not synced means not recorded: those blocks are simply fetched again next time.
        if (error) this.#failure ??= error;
        else this.#task.progress.postMessage({ blocks, room: this.#roomOf(blocks) } satisfies BlocksDone);
        resolve();
        // Blocks that finished during this sync go out with the next one.
        if (!error && this.#bytes >= GROUP_BYTES) void this.#sync();
      });
    });
    return this.#syncing;
  }
}
