/**
 * The permission bits a pulled entry gets locally: the remote's rwx bits only. setuid, setgid and
 * sticky are dropped, so a hostile server cannot plant a setuid binary in the user's tree.
 */
export function localModeOf(remoteMode: number): number {
  return remoteMode & 0o777;
}
