/**
 * The permission bits a pulled entry gets locally: the remote's rwx bits less the user's umask,
 * as a new file would get. setuid, setgid and sticky are dropped, so a hostile server cannot
 * plant a setuid binary or a world-writable file in the user's tree.
 */
export function localModeOf(remoteMode: number, umask: number): number {
  return remoteMode & 0o777 & ~umask;
}
