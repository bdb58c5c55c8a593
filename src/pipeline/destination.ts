import { lstat, mkdir, readdir, realpath, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GsyncError } from '../errors/GsyncError.js';
import { Destination } from '../local/paths.js';
import type { StateStore } from '../state/store.js';

/**
 * Makes the destination usable: created if missing, refused if it is not a directory.
 */
export async function prepareDestination(localDir: string): Promise<Destination> {
  const absolute = resolve(localDir);
  const existing = await lstat(absolute).catch(() => undefined);
  if (existing && !existing.isDirectory() && !existing.isSymbolicLink()) {
    throw new GsyncError('local-path', `local destination ${absolute} exists and is not a directory`, {
      hint: 'give a directory as local-dir, or move that file away',
    });
  }
  try {
    await mkdir(absolute, { recursive: true });
    const root = await realpath(absolute);
    const destination = new Destination(root);
    await mkdir(destination.partialDir, { recursive: true, mode: 0o700 });
    return destination;
  } catch (error) {
    const errno = error as NodeJS.ErrnoException;
    throw new GsyncError('local-path', `cannot use ${absolute} as the destination: ${errno.code ?? errno.message}`, {
      hint: errno.code === 'ENOTDIR' ? 'a path component is a file, not a directory' : 'check that you may create and write it',
      cause: error,
    });
  }
}

/**
 * Removes what interrupted runs left in `.gsync/partial`, except the partials the state file
 * remembers (big files resumed block by block). Only call while holding the lock.
 */
export async function sweepPartials(destination: Destination, keep: ReadonlySet<string>): Promise<void> {
  await mkdir(destination.partialDir, { recursive: true, mode: 0o700 });
  const names = await readdir(destination.partialDir);
  await Promise.all(names.filter((name) => !keep.has(name)).map((name) => rm(join(destination.partialDir, name), { recursive: true, force: true })));
}

/** Forgets partials this run did not touch, and removes their files. */
export async function sweepStalePartials(destination: Destination, store: StateStore, runId: number): Promise<void> {
  for (const partial of store.partials()) {
    if (partial.runId >= runId) continue;
    store.dropPartial(partial.path);
    await rm(join(destination.partialDir, partial.name), { force: true });
  }
}
