import { closeSync, constants, fchmodSync, futimesSync, openSync } from 'node:fs';
import { chmod, lstat, open } from 'node:fs/promises';
import { lstatOrNothing } from './scan.js';

/**
 * Attributes are set through a descriptor opened with O_NOFOLLOW, never by path: a symlink
 * planted where a directory or file of the mirror stands is refused (ELOOP), not chmod'ed or
 * touched through.
 */

/**
 * A finished directory's mode and mtime. Synchronously: each call takes microseconds on an inode
 * just written, where a first pull's 231 directories through promises cost its main thread ~40 ms.
 */
export function setDirAttrs(path: string, mode: number, mtime: number): void {
  // A re-run mostly finds a directory as it left it: one lstat instead of open, fchmod, futimes and close.
  const now = lstatOrNothing(path);
  if (now?.isDirectory() && (now.mode & 0o7777) === mode && now.mtimeMs === mtime * 1000) return;
  const dir = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchmodSync(dir, mode);
    futimesSync(dir, mtime, mtime);
  } finally {
    closeSync(dir);
  }
}

/** A file already in place gets the mode it should have; O_NONBLOCK so a FIFO swapped in cannot hang the open. */
export async function setFileMode(path: string, mode: number): Promise<void> {
  let file;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    // A mode without read permission (a remote 000) cannot be opened: by path, once lstat says it is a file.
    if (!(await lstat(path)).isFile()) throw error;
    await chmod(path, mode);
    return;
  }
  try {
    if (!(await file.stat()).isFile()) throw Object.assign(new Error(`${path} is no longer a regular file`), { code: 'EISDIR', path });
    await file.chmod(mode);
  } finally {
    await file.close();
  }
}
