import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { HeldDirs } from './localDirs.js';
import { syncFilesystem } from './syncfs.js';

let syncfsWorks = true;

/** Syncs the whole file system holding `path`; false where syncfs cannot (then never tried again). */
async function syncedWhole(path: string): Promise<boolean> {
  if (!syncfsWorks) return false;
  try {
    await syncFilesystem(path);
    return true;
  } catch {
    syncfsWorks = false;
    return false;
  }
}

/**
 * Makes many files durable at once. Durability costs per call, not per byte: 20,000 fdatasyncs
 * took 5.1 s on the project machine, one syncfs (`sync -f`) after the batch 0.1 s. Node has no
 * syncfs (syncfs.ts runs it); where that fails, each file is fdatasync'd.
 */
export async function makeDurable(files: readonly string[], onFilesystemOf: string): Promise<void> {
  if (files.length === 0) return;
  if (files.length > 1 && (await syncedWhole(onFilesystemOf))) return;
  await Promise.all(files.map(fdatasyncFile));
}

/**
 * A symlink has no data of its own to sync (the fsync of its directory after the rename makes it
 * durable), and is never opened: opening follows it, to a file outside or a FIFO that would hang.
 */
async function fdatasyncFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return;
    throw error;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes renames into these held directories durable. Many directories: one syncfs of the file
 * system the renames stayed on (the partials'), which commits its journal with every rename in it
 * (a fsync per directory cost a 20,000-file pull, 32 directories in flight, hundreds of journal
 * commits a second). One: its own fsync.
 */
export async function syncDirectories(dirs: Iterable<string>, held: HeldDirs, onFilesystemOf: string): Promise<void> {
  const unique = [...new Set(dirs)];
  if (unique.length > 1 && (await syncedWhole(onFilesystemOf))) return;
  await Promise.all(unique.map((dir) => held.sync(dir)));
}
