import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Attributes are set through a descriptor opened with O_NOFOLLOW, never by path: a symlink
 * planted where a directory or file of the mirror stands is refused (ELOOP), not chmod'ed or
 * touched through.
 */

/** A finished directory's mode and mtime. */
export async function setDirAttrs(path: string, mode: number, mtime: number): Promise<void> {
  const dir = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await dir.chmod(mode);
    await dir.utimes(mtime, mtime);
  } finally {
    await dir.close();
  }
}

/** A file already in place gets the mode it should have; O_NONBLOCK so a FIFO swapped in cannot hang the open. */
export async function setFileMode(path: string, mode: number): Promise<void> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!(await file.stat()).isFile()) throw Object.assign(new Error(`${path} is no longer a regular file`), { code: 'EISDIR', path });
    await file.chmod(mode);
  } finally {
    await file.close();
  }
}
