import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, readdir, realpath, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { localIoError } from '../errors/classify.js';
import { GsyncError } from '../errors/GsyncError.js';
import { Destination } from '../local/paths.js';
import type { StateStore } from '../state/store.js';

/**
 * Makes the destination usable: created if missing, refused if it is not a directory (exit 3)
 * or cannot be written (exit 11).
 */
export async function prepareDestination(localDir: string): Promise<Destination> {
  const absolute = resolve(localDir);
  await refuseNonDirectory(absolute);
  try {
    await mkdir(absolute, { recursive: true });
    const root = await realpath(absolute);
    // mkdir succeeds on directories that exist, and a recursive one says ENOENT on a read-only
    // mount: ask first, so a read-only destination fails here, plainly, and not mid-run.
    await access(root, constants.W_OK);
    const destination = new Destination(root);
    await ownDir(destination.stateDir);
    await ownDir(destination.partialDir);
    await Promise.all(STATE_FILES.map((name) => ownFileIfAny(join(destination.stateDir, name))));
    // Private, whoever made it: it holds partial data and the record of the mirror.
    await chmod(destination.stateDir, 0o700);
    await access(destination.partialDir, constants.W_OK);
    return destination;
  } catch (caught) {
    if (caught instanceof GsyncError) throw caught;
    // A recursive mkdir says ENOENT where a parent cannot be written (a read-only mount): what the
    // nearest existing parent says is the cause.
    const error = (caught as NodeJS.ErrnoException).code === 'ENOENT' ? ((await parentRefusal(absolute)) ?? caught) : caught;
    const errno = error as NodeJS.ErrnoException;
    if (errno.code && unwritable.has(errno.code)) throw localIoError(error, `cannot write the destination ${absolute}`);
    throw new GsyncError('local-path', `cannot use ${absolute} as the destination: ${errno.code ?? errno.message}`, {
      hint: errno.code === 'ENOTDIR' ? 'a path component is a file, not a directory' : 'check that you may create and write it',
      cause: error,
    });
  }
}

/** A destination that exists as something other than a directory (or a link to one) is refused: exit 3. A dry run asks too. */
export async function refuseNonDirectory(absolute: string): Promise<void> {
  const existing = await lstat(absolute).catch(() => undefined);
  if (existing && !existing.isDirectory() && !existing.isSymbolicLink()) {
    throw new GsyncError('local-path', `local destination ${absolute} exists and is not a directory`, {
      hint: 'give a directory as local-dir, or move that file away',
    });
  }
}

/** Why the nearest existing directory above `path` cannot be written into, if it cannot. */
async function parentRefusal(path: string): Promise<unknown> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const stats = await lstat(dir).catch(() => undefined);
    if (stats) return stats.isDirectory() ? await access(dir, constants.W_OK).then(() => undefined, (error: unknown) => error) : undefined;
    if (dir === dirname(dir)) return undefined;
  }
}

/** Makes a directory of gsync's own, or checks the one there is really a directory: never a symlink to follow. */
async function ownDir(path: string): Promise<void> {
  await mkdir(path, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  if (!(await lstat(path)).isDirectory()) {
    throw new GsyncError('local-path', `${path} is not a directory (a symlink or a file stands there)`, {
      hint: 'gsync keeps its state there and never follows a link at that name: move it away',
    });
  }
}

/**
 * The files gsync keeps in `.gsync`: SQLite resolves a symlink at the state file's name and
 * writes wherever it leads, and a FIFO at the lock's would hang the run reading it.
 */
const STATE_FILES = ['state.db', 'state.db-wal', 'state.db-shm', 'state.db-journal', 'lock'];

/** Checks that what stands at one of gsync's file names, if anything, is a plain file. */
async function ownFileIfAny(path: string): Promise<void> {
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stats && !stats.isFile()) {
    throw new GsyncError('local-path', `${path} is not a regular file (a symlink or something else stands there)`, {
      hint: 'gsync keeps its state there and never follows a link at that name: move it away',
    });
  }
}

/** The destination exists but may not be written: a local I/O failure (exit 11), not a wrong path. */
const unwritable = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT']);

/**
 * Removes what interrupted runs left in `.gsync/partial`, except the partials the state file
 * remembers (big files resumed block by block). Only call while holding the lock.
 */
export async function sweepPartials(destination: Destination, keep: ReadonlySet<string>): Promise<void> {
  // prepareDestination made the directory and checked it is one.
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
