import { constants, openSync, unlinkSync } from 'node:fs';

/**
 * Opens a partial file for writing, never through a link: O_NOFOLLOW refuses a symlink planted at
 * its name, and a fresh partial is created with O_EXCL; what a failed attempt (or anyone) left at
 * the name is unlinked first, so a planted hard link is removed, never written through.
 *
 * A fresh partial may be made with the file's final permission bits (`permissions`: already less
 * the umask), saving an fchmod per file: its descriptor writes whatever they say, and nobody else
 * can reach it in `.gsync` (0700). A resumed one stays the owner's to open again.
 */
export function openPartial(path: string, mode: 'fresh' | 'resume', permissions = 0o600): number {
  const flags = constants.O_NOFOLLOW | constants.O_CREAT;
  if (mode === 'resume') return openSync(path, flags | constants.O_RDWR, 0o600);
  const create = (): number => openSync(path, flags | constants.O_EXCL | constants.O_WRONLY, permissions);
  try {
    return create();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkSync(path);
    return create();
  }
}
