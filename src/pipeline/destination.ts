import { lstat, mkdir, realpath, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GsyncError } from '../errors/GsyncError.js';
import { Destination } from '../local/paths.js';

/**
 * Makes the destination usable: created if missing, refused if it is not a directory. Stale
 * partial files are swept: this version restarts interrupted files from scratch, and the lock
 * is held, so nothing else is writing there.
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

/** Removes what interrupted runs left in `.gsync/partial`. Only call while holding the lock. */
export async function sweepPartials(destination: Destination): Promise<void> {
  await rm(destination.partialDir, { recursive: true, force: true });
  await mkdir(destination.partialDir, { recursive: true, mode: 0o700 });
}
