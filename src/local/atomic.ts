import { lstat, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ManifestRow, Problem } from '../core/types.js';
import { GsyncError } from '../errors/GsyncError.js';
import { makeDurable, syncDirectories } from './durable.js';
import type { Destination } from './paths.js';

/** A file or symlink complete in its partial path, ready to appear at its final path. */
export interface ReadyEntry {
  readonly partialPath: string;
  readonly row: ManifestRow;
}

export interface CommitterOptions {
  /** Flush when this many entries wait... */
  readonly maxPending?: number;
  /** ...or when the oldest has waited this long. */
  readonly maxDelayMs?: number;
}

interface Pending {
  readonly entry: ReadyEntry;
  readonly done: (problem: Problem | undefined) => void;
  readonly fail: (error: unknown) => void;
}

/**
 * Puts finished entries at their final paths in groups: one durability call for the group,
 * then each rename (atomic: a reader sees the old entry or the whole new one, never part of
 * one), one fsync per touched directory, and one state transaction recording them all. An
 * entry is recorded only after it is durable at its final path.
 */
export class Committer {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxPending: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly destination: Destination,
    private readonly record: (rows: readonly ManifestRow[]) => void,
    options: CommitterOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 1024;
    this.maxDelayMs = options.maxDelayMs ?? 100;
  }

  /** Resolves once the entry is in place and recorded (undefined), or with why it was not. */
  commit(entry: ReadyEntry): Promise<Problem | undefined> {
    return new Promise((done, fail) => {
      this.pending.push({ entry, done, fail });
      if (this.pending.length >= this.maxPending) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
    });
  }

  /** Commits everything queued so far; flushes never overlap. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(() => this.commitBatch(batch));
    return this.flushing;
  }

  private async commitBatch(batch: readonly Pending[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await makeDurable(batch.map((p) => p.entry.partialPath), this.destination.partialDir);
      const placed: Pending[] = [];
      const touched: string[] = [];
      for (const item of batch) {
        const finalPath = this.destination.pathOf(item.entry.row.path);
        const problem = await this.place(item.entry, finalPath);
        if (problem) {
          item.done(problem);
          continue;
        }
        placed.push(item);
        touched.push(dirname(finalPath));
      }
      await syncDirectories(touched);
      this.record(placed.map((p) => p.entry.row));
      for (const item of placed) item.done(undefined);
    } catch (error) {
      const fatal = localError(error);
      for (const item of batch) item.fail(fatal);
    }
  }

  private async place(entry: ReadyEntry, finalPath: string): Promise<Problem | undefined> {
    const existing = await lstat(finalPath).catch(() => undefined);
    if (existing?.isDirectory()) {
      await rm(entry.partialPath, { force: true });
      return { path: entry.row.path, stage: 'commit', code: 'conflict', message: 'a local directory stands where the remote has a file' };
    }
    // rename replaces a file or a symlink itself; it never writes through a planted symlink.
    await rename(entry.partialPath, finalPath);
    return undefined;
  }
}

function localError(error: unknown): GsyncError {
  if (error instanceof GsyncError) return error;
  const errno = error as NodeJS.ErrnoException;
  return new GsyncError('local-io', `cannot put files in place: ${errno.code ?? errno.message}${errno.path ? ` (${errno.path})` : ''}`, {
    hint: 'check free space and permissions on the destination; partial files are kept under .gsync',
    cause: error,
  });
}
