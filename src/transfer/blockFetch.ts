import { closeSync, fdatasync } from 'node:fs';
import type { SFTPWrapper } from 'ssh2';
import { BLOCK_SIZE, blockCount, blockRange, type BlockRange } from '../core/blocks.js';
import { readRemoteFile, type ReadLoopOptions } from '../remote/readLoop.js';
import { ArrivingBlocks, hashRange, hasher } from './blockHash.js';
import { failedResult, readResult } from './fileOutcome.js';
import { openPartial } from './partialFile.js';
import type { BlockRecord, BlocksDone, BlockTask, FileResult } from './protocol.js';

/**
 * Blocks made durable are reported in groups: one fdatasync and one message per group; the timer
 * bounds a group's wait on a slow link.
 */
const GROUP_BYTES = BLOCK_SIZE;
const GROUP_MS = 100;
/**
 * What a kill may cost: bytes asked for or arrived and not yet recorded. A kill may re-send 16 MiB
 * (issue 6); the rest is room for blocks partly arrived, SSH framing and the bytes that cross
 * while the kill lands. The READs in flight follow the link (readsInFlight), and a loaded
 * machine's slow first OPEN can make a LAN look long: they are capped by bytes too. 12 MiB per
 * 100 ms round trip is still 120 MiB/s on one connection.
 */
const AT_RISK_BYTES = 12 * 1024 * 1024;
const HASH_SLICE = 1024 * 1024;

/**
 * Fetches the blocks of one file that are not in its partial yet. Recorded blocks are re-hashed
 * from disk first; a torn or edited one is fetched again. Local calls are synchronous, as in the
 * read loop (this thread owns nothing else).
 */
export async function fetchBlocks(sftp: SFTPWrapper, task: BlockTask, reads: Pick<ReadLoopOptions, 'onData' | 'throttle'>): Promise<FileResult> {
  const { file } = task;
  const xx = await hasher();
  const scratch = Buffer.allocUnsafe(HASH_SLICE);
  const fd = openPartial(file.partialPath, 'resume');
  const reporter = new GroupReporter(fd, task);
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
    // READs asked and not answered, and bytes of blocks not finished: with what waits for its
    // sync, the bytes a kill would lose.
    let asked = 0;
    let arrived = 0;
    const outcome = await readRemoteFile(sftp, file.remotePath, fd, file, {
      ranges: missing,
      maxBytesInFlight: AT_RISK_BYTES,
      ...reads,
      throttle: async (wanted) => {
        const atRisk = (): number => reporter.unrecorded + arrived + (asked + 1) * wanted;
        if (await reporter.waitWhile(() => atRisk() > AT_RISK_BYTES)) reads.onData?.(0);
        const length = reads.throttle ? await reads.throttle(wanted) : wanted;
        asked++;
        return length;
      },
      // Called once for each READ answered, each asked through throttle above.
      onData: (bytes) => {
        asked--;
        reads.onData?.(bytes);
      },
      onBytes: (index, position, bytes) => {
        arrived += bytes.length;
        arriving.add(index, position, bytes);
      },
      onRange: (index) => {
        const range = byIndex.get(index);
        if (!range) return;
        arrived -= range.length;
        reporter.done({ index, hash: arriving.digest(index) ?? hashRange(xx, fd, range.start, range.length, scratch) }, range.length);
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
  #pending: BlockRecord[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  #syncingBytes = 0;
  #failure: Error | undefined;

  constructor(fd: number, task: BlockTask) {
    this.#fd = fd;
    this.#task = task;
  }

  done(block: BlockRecord, bytes: number): void {
    this.#pending.push(block);
    this.#bytes += bytes;
    if (this.#bytes >= GROUP_BYTES) void this.#sync();
    else this.#timer ??= setTimeout(() => void this.#sync(), GROUP_MS);
  }

  /** Bytes of blocks done and not reported yet: waiting for their group, or in its sync. */
  get unrecorded(): number {
    return this.#bytes + this.#syncingBytes;
  }

  /**
   * Waits while `tooMuch` holds and a sync is running or blocks wait for one (started now, not on
   * the timer): only what a sync reports can make room, and with nothing to sync there is nothing
   * to wait for. True if it waited (waiting on our own disk is not the server stalling).
   */
  async waitWhile(tooMuch: () => boolean): Promise<boolean> {
    let waited = false;
    while (tooMuch() && (this.#syncing || this.#pending.length > 0) && !this.#failure) {
      waited = true;
      await (this.#syncing ?? this.#sync());
    }
    return waited;
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
    this.#syncingBytes = this.#bytes;
    this.#bytes = 0;
    this.#syncing = new Promise<void>((resolve) => {
      fdatasync(this.#fd, (error) => {
        this.#syncing = undefined;
        this.#syncingBytes = 0;
        // Not synced means not recorded: those blocks are simply fetched again next time.
        if (error) this.#failure ??= error;
        else this.#task.progress.postMessage({ blocks } satisfies BlocksDone);
        resolve();
        // Blocks that finished during this sync go out with the next one.
        if (!error && this.#bytes >= GROUP_BYTES) void this.#sync();
      });
    });
    return this.#syncing;
  }
}
