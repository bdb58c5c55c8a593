import type { Dirent } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parentOf } from '../core/names.js';
import type { EntryKind } from '../core/types.js';
import { setDirAttrs } from './attrs.js';
import type { LocalDirs } from './localDirs.js';
import type { Destination } from './paths.js';

/** A local entry --delete removes: a file, a symlink (never followed) or a directory with all under it. */
export interface PlannedDeletion {
  readonly path: string;
  readonly kind: EntryKind;
}

/** Files and symlinks the deletions take with them: what --max-delete and the mass guard count. */
export async function filesTakenBy(destination: Destination, deletions: readonly PlannedDeletion[]): Promise<number> {
  let total = 0;
  for (const deletion of deletions) total += await filesIn(destination, deletion);
  return total;
}

async function filesIn(destination: Destination, deletion: PlannedDeletion): Promise<number> {
  if (deletion.kind !== 'dir') return 1;
  let count = 0;
  const walk = async (path: string): Promise<void> => {
    const entries: Dirent[] = await readdir(path, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      // Dirent types come from lstat-like data: a symlink to a directory is a symlink, not walked.
      if (entry.isDirectory()) await walk(join(path, entry.name));
      else count++;
    }
  };
  await walk(destination.pathOf(deletion.path));
  return count;
}

/**
 * Removes the entries through their parent held open, checked to be the directory the walk
 * verified (so nothing is removed through a symlink swapped in since). rm never follows a
 * symlink, at the top or below. A parent the remote made read-only is opened for the removal and
 * gets its mode and mtime back after.
 */
export async function deleteEntries(destination: Destination, localDirs: LocalDirs, deletions: readonly PlannedDeletion[]): Promise<void> {
  const byParent = new Map<string, PlannedDeletion[]>();
  for (const deletion of deletions) {
    const parent = parentOf(deletion.path);
    const siblings = byParent.get(parent);
    if (siblings) siblings.push(deletion);
    else byParent.set(parent, [deletion]);
  }
  for (const [parent, inside] of byParent) {
    const held = await localDirs.hold([parent]);
    try {
      const parentPath = destination.pathOf(parent);
      const before = await lstat(parentPath);
      const mode = before.mode & 0o7777;
      const shut = (mode & 0o300) !== 0o300;
      if (shut) setDirAttrs(parentPath, mode | 0o700, Math.floor(before.mtimeMs / 1000));
      try {
        for (const deletion of inside) await rm(held.pathOf(deletion.path), { recursive: true, force: true });
      } finally {
        // The directory's mtime was the remote's: a removal must not make it look changed.
        setDirAttrs(parentPath, mode, Math.floor(before.mtimeMs / 1000));
      }
    } finally {
      await held.close();
    }
  }
}
