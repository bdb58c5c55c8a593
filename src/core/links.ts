import { STATE_DIR_NAME } from './names.js';

/**
 * Which remote symlinks are made locally. `safe` (the default, as rsync's --safe-links) makes a
 * link only when following it can never leave the destination; `all` copies every link
 * verbatim; `none` makes none.
 */
export type LinksMode = 'safe' | 'all' | 'none';

export const LINKS_MODES: readonly LinksMode[] = ['safe', 'all', 'none'];

/**
 * Why a symlink at `path` (relative to the destination root) with `target` could lead out of
 * the destination or into gsync's own directory; undefined when it cannot.
 *
 * Not only lexical: a target is accepted only as some leading `..` (no more than the link's
 * depth) followed by descending names, never `..` after a name. Every link made locally obeys
 * that from its own place, so any chain of them, resolved by the kernel, only ever climbs to a
 * directory inside and then descends: `a -> b/..` with `b -> ../..` is refused, because `b/..`
 * means "b's parent" only until b is a link.
 */
export function unsafeLinkReason(path: string, target: string): string | undefined {
  if (target === '') return 'its target is empty';
  if (target.startsWith('/')) return 'its target is absolute';
  const depth = path.split('/').length - 1;
  let ups = 0;
  let names = 0;
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') {
      if (names === 0 && ups === depth && part === STATE_DIR_NAME) return `its target is inside gsync's own ${STATE_DIR_NAME} directory`;
      names++;
      continue;
    }
    if (names > 0) return "its target climbs back up after a name ('a/../b'), which a chain of links could turn outside";
    if (++ups > depth) return 'its target leads out of the destination';
  }
  return undefined;
}
