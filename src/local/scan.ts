import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { EntryKind, LocalEntry } from '../core/types.js';

/**
 * Lists one local directory without following symlinks. A missing directory is empty (it is
 * about to be created). `skip` names an entry to leave out (`.gsync` at the root).
 */
export async function listLocalDir(path: string, skip?: string): Promise<LocalEntry[]> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(path, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
  const entries = await Promise.all(
    dirents
      .filter((d) => d.name !== skip)
      .map(async (d): Promise<LocalEntry | undefined> => {
        const full = join(path, d.name);
        let stats: Stats;
        try {
          stats = await lstat(full);
        } catch {
          return undefined; // gone since readdir
        }
        const kind = kindOfStats(stats);
        const base = { name: d.name, kind, size: kind === 'file' ? stats.size : 0, mtime: Math.floor(stats.mtimeMs / 1000), mode: stats.mode & 0o7777 };
        return kind === 'symlink' ? { ...base, linkTarget: await readlink(full).catch(() => '') } : base;
      }),
  );
  return entries.filter((e): e is LocalEntry => e !== undefined);
}

export function kindOfStats(stats: Stats): EntryKind {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}
