import type { Filter } from './filter.js';
import type { RemoteEntry } from './types.js';

/** Which remote entries a run takes: --include/--exclude, --min-size/--max-size, --min-age. */
export interface Selection {
  readonly filter?: Filter;
  readonly minSize?: number;
  readonly maxSize?: number;
  /** --min-age: files modified after this moment (seconds since the epoch) are left for a later run. */
  readonly modifiedBy?: number;
}

/**
 * Why this run leaves a remote file alone (it is still there: never deleted for it), or
 * undefined when it takes it. Filters are asked separately: an excluded entry is as if absent.
 */
export function heldBack(selection: Selection, entry: RemoteEntry): string | undefined {
  if (entry.kind !== 'file') return undefined;
  if (selection.minSize !== undefined && entry.size < selection.minSize) return `smaller than --min-size`;
  if (selection.maxSize !== undefined && entry.size > selection.maxSize) return `larger than --max-size`;
  if (selection.modifiedBy !== undefined && entry.mtime > selection.modifiedBy) return 'modified more recently than --min-age: the next run takes it';
  return undefined;
}

/** The filters' verdict for an entry (directories matched as directories). */
export function excluded(selection: Selection, path: string, kind: RemoteEntry['kind']): boolean {
  return selection.filter?.verdict(path, kind === 'dir') === 'exclude';
}
