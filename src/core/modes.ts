import type { EntryKind } from './types.js';

/**
 * The permission bits a pulled entry gets locally: the remote's rwx bits less the user's umask,
 * as a new file would get. setuid, setgid and sticky are dropped, so a hostile server cannot
 * plant a setuid binary or a world-writable file in the user's tree.
 */
export function localModeOf(remoteMode: number, umask: number): number {
  return remoteMode & 0o777 & ~umask;
}

/** An entry's kind from its mode's file-type bits (POSIX's S_IFMT, as lstat and SFTP give them). */
export function kindOfMode(mode: number): EntryKind {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}
