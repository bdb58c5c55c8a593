import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { BLOCK_SIZE, canResume } from '../core/blocks.js';
import type { ManifestRow, RemoteEntry } from '../core/types.js';
import { GsyncError } from '../errors/GsyncError.js';
import type { BlocksDone, BlockTask } from '../transfer/protocol.js';
import type { PullContext } from './pullDir.js';

/**
 * Pulls one big file in blocks into a partial the state file remembers, so that the next run
 * after a kill or a dropped link fetches only the blocks that were not recorded. A partial begun
 * from another version of the remote file (size or mtime differ) is thrown away.
 */
export async function pullBigFile(ctx: PullContext, path: string, remotePath: string, entry: RemoteEntry, row: ManifestRow): Promise<void> {
  const partial = await partialFor(ctx, path, entry);
  const partialPath = join(ctx.destination.partialDir, partial.name);
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (message: BlocksDone) => {
    if (Array.isArray(message.blocks)) ctx.store.recordBlocks(path, message.blocks);
  });
  const task: BlockTask = {
    kind: 'blocks',
    file: { path, remotePath, partialPath, size: entry.size, mtime: entry.mtime, mode: entry.mode },
    blockSize: BLOCK_SIZE,
    recorded: [...partial.blocks].map(([index, hash]) => ({ index, hash })),
    progress: port2,
  };
  let result;
  try {
    result = await ctx.transfers().run(task);
  } finally {
    port1.close();
  }
  const file = result.files[0];
  if (result.kind === 'fatal') {
    // The partial and its recorded blocks stay for the next run.
    const { kind, message, hint } = result.error;
    throw new GsyncError(kind, message, hint === undefined ? {} : { hint });
  }
  if (file?.kind !== 'fetched') {
    ctx.store.dropPartial(path);
    await rm(partialPath, { force: true });
    if (file) ctx.tally.problem({ path, stage: 'transfer', code: file.code, message: file.message });
    return;
  }
  const problem = await ctx.committer.commit({ partialPath, row });
  ctx.store.dropPartial(path);
  if (problem) {
    ctx.tally.problem(problem);
    return;
  }
  ctx.tally.filesTransferred++;
  ctx.tally.bytesTransferred += file.bytes;
  ctx.fileDone(path, file.bytes);
}

/** The partial to continue, or a fresh one (the old one, if any, removed). */
async function partialFor(ctx: PullContext, path: string, entry: RemoteEntry): Promise<{ name: string; blocks: ReadonlyMap<number, string> }> {
  const existing = ctx.store.partialFor(path);
  if (existing && canResume(existing, entry)) {
    ctx.store.touchPartial(path, ctx.runId);
    return existing;
  }
  if (existing) await rm(join(ctx.destination.partialDir, existing.name), { force: true });
  const name = `b-${randomUUID()}`;
  ctx.store.beginPartial({ path, name, size: entry.size, mtime: entry.mtime, blockSize: BLOCK_SIZE }, ctx.runId);
  return { name, blocks: new Map() };
}
