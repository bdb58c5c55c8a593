/** What --delete may do this run: the limits the user set, and what the state file knows. */
export interface DeleteLimits {
  /** --max-delete: refuse a run that would delete more files than this. */
  readonly maxDelete?: number;
  /** --allow-mass-delete: the user expects most of the mirror to go. */
  readonly allowMass: boolean;
  /** Files (and symlinks) the state file records in the mirror. */
  readonly knownFiles: number;
}

/**
 * Why the deletions a run planned must not happen (exit 25, nothing deleted), or undefined.
 * The mass guard catches a remote that lists empty or nearly (a recreated box, an unmounted
 * volume): more than half of the files the state file knows, or all of them, would go.
 */
export function deleteRefusal(files: number, limits: DeleteLimits): string | undefined {
  if (files === 0) return undefined;
  if (limits.maxDelete !== undefined && files > limits.maxDelete) {
    return `--delete would remove ${files} files, more than --max-delete ${limits.maxDelete}: nothing was deleted`;
  }
  if (!limits.allowMass && (files > limits.knownFiles / 2 || files >= limits.knownFiles)) {
    return (
      // Counted on disk, so it may pass the record (files put there by hand): not "N of M".
      `--delete would remove ${files} files, against ${limits.knownFiles} this mirror records: nothing was deleted. ` +
      'Is the remote directory empty by accident (a new box, an unmounted disk)? If not, add --allow-mass-delete'
    );
  }
  return undefined;
}
