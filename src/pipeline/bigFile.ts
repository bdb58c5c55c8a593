import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_SIZE, blockCount, bytesDone, canResume, splitBlocks, type BlockSpan } from '../core/blocks.js';
import type { ManifestRow, RemoteEntry } from '../core/types.js';
import type { BlockTask, FileResult, FileTask, TaskResult } from '../transfer/protocol.js';
import { localModeOf } from '../core/modes.js';
import { localIoError } from '../errors/classify.js';
import { BlockProgress } from './blockProgress.js';
import { reportOrRetry } from './changing.js';
import { placeFetched, type PullContext } from './pullDir.js';
import { retrying, taskFailure } from './retrying.js';

/** A file to pull in blocks; with `appendFrom`, the local copy holds its first bytes already. */
export interface BigFile {
  readonly path: string;
  readonly remotePath: string;
  readonly entry: RemoteEntry;
  readonly row: ManifestRow;
  /** --append: the size of the complete local copy the file grew from. */
  readonly appendFrom?: number;
  /** Reads of this file in this run so far, this one included (it may have changed while read). */
  readonly attempt?: number;
}

/**
 * Pulls one big file in blocks into a partial the state file remembers, so that the next run
 * after a kill or a dropped link fetches only the blocks that were not recorded. A partial begun
 * from another version of the remote file (size or mtime differ) is thrown away.
 */
export async function pullBigFile(ctx: PullContext, big: BigFile): Promise<void> {
  const { path, entry, row } = big;
  const { name, trustedBytes, resumed } = await partialFor(ctx, big);
  const partialPath = join(ctx.destination.partialDir, name);
  const file = { path, remotePath: big.remotePath, partialPath, size: entry.size, mtime: entry.mtime, mode: localModeOf(entry.mode, ctx.plan.umask) };
  // Parts of one file go to different workers, each over its own connection, into the same partial.
  const parts = await Promise.all(
    splitBlocks(blockCount(entry.size), ctx.connections).map((part) => pullPart(ctx, file, part, trustedBytes)),
  );
  const failed = parts.find((p) => p?.kind !== 'fetched');
  if (failed !== undefined) {
    ctx.store.dropPartial(path);
    await rm(partialPath, { force: true });
    const attempt = big.attempt ?? 1;
    if (failed?.kind === 'failed') {
      await reportOrRetry(ctx, path, failed, attempt, (now, next) =>
        pullBigFile(ctx, { ...big, entry: { ...entry, ...now }, row: { ...row, ...now }, attempt: next }),
      );
    }
    return;
  }
  const bytes = parts.reduce((sum, p) => sum + (p?.kind === 'fetched' ? p.bytes : 0), 0);
  // Forgotten once the commit group is through: a kill before that leaves a record the end-of-run sweep drops.
  await placeFetched(ctx, partialPath, row, bytes, big.appendFrom ? 'appended' : resumed ? 'resumed' : 'whole');
  ctx.store.dropPartial(path);
}

/** One part of a file, retried on its own while the link drops or stalls. */
async function pullPart(ctx: PullContext, file: FileTask, part: BlockSpan, trustedBytes: number): Promise<FileResult | undefined> {
  let fetched: FileResult | undefined;
  await retrying(ctx, 'trying again', (message, retry) => ctx.notice(file.path, message, retry), async () => {
    // Each attempt starts from what the state file holds now: blocks recorded by the last one count.
    const recorded = inSpan(ctx.store.partialFor(file.path)?.blocks, part);
    const result = await runBlockTask(ctx, file, recorded, trustedBytes, part);
    fetched = result.files[0];
    return { failure: taskFailure(result), progressed: inSpan(ctx.store.partialFor(file.path)?.blocks, part).size > recorded.size };
  });
  return fetched;
}

function inSpan(blocks: ReadonlyMap<number, string> | undefined, span: BlockSpan): Map<number, string> {
  return new Map([...(blocks ?? [])].filter(([index]) => index >= span.first && index < span.end));
}

/** One block task, recording blocks as the worker writes them. */
async function runBlockTask(ctx: PullContext, file: FileTask, recorded: ReadonlyMap<number, string>, trustedBytes: number, span: BlockSpan): Promise<TaskResult> {
  const progress = new BlockProgress((blocks) => ctx.store.recordBlocks(file.path, blocks), ctx.atRisk);
  const task: BlockTask = {
    kind: 'blocks',
    file,
    blockSize: BLOCK_SIZE,
    recorded: [...recorded].map(([index, hash]) => ({ index, hash })),
    trustedBytes,
    span,
    progress: progress.port,
  };
  let unrecorded: unknown;
  let result: TaskResult;
  try {
    result = await ctx.transfers().run(task);
  } finally {
    unrecorded = progress.finish();
  }
  // A block the state file could not take (its disk is full) is simply fetched again next run; the run stops.
  if (unrecorded !== undefined) throw localIoError(unrecorded, `recording the blocks of ${file.path}`);
  return result;
}

/**
 * The partial to continue, or a fresh one (the old one, if any, removed). For --append, a fresh
 * partial starts as a copy of the local file (a reflink where the file system has them), whose
 * blocks are trusted up to the last old one, which is fetched again to check the seam.
 */
async function partialFor(ctx: PullContext, big: BigFile): Promise<{ name: string; trustedBytes: number; resumed: boolean }> {
  const { path, entry } = big;
  const existing = ctx.store.partialFor(path);
  if (existing && canResume(existing, entry)) {
    ctx.store.touchPartial(path, ctx.runId);
    // Recorded blocks are on disk already: this run has only the rest to fetch.
    ctx.tally.bytesPlanned -= bytesDone({ size: existing.size, blockSize: existing.blockSize, blocksDone: existing.blocks.size });
    return { name: existing.name, trustedBytes: 0, resumed: true };
  }
  if (existing) await rm(join(ctx.destination.partialDir, existing.name), { force: true });
  const name = `b-${randomUUID()}`;
  ctx.store.beginPartial({ path, name, size: entry.size, mtime: entry.mtime, blockSize: BLOCK_SIZE }, ctx.runId);
  if (big.appendFrom === undefined || big.appendFrom === 0) return { name, trustedBytes: 0, resumed: false };
  await copyFile(ctx.destination.pathOf(path), join(ctx.destination.partialDir, name), constants.COPYFILE_FICLONE);
  return { name, trustedBytes: Math.floor((big.appendFrom - 1) / BLOCK_SIZE) * BLOCK_SIZE, resumed: false };
}
