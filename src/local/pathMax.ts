import { joinRelative } from '../core/names.js';
import type { RemoteListing } from '../remote/scan.js';
import type { Destination } from './paths.js';

/**
 * The longest path the system takes, in bytes (Linux's PATH_MAX, less its NUL). An entry whose
 * local path would be longer could not be placed (ENAMETOOLONG), and stopped the whole run as if
 * the disk had failed; it is left out and reported, as rsync does, and the rest goes on.
 */
const PATH_MAX_BYTES = 4095;
/** Names are checked to be at most 255 bytes long (names.ts). */
const NAME_MAX_BYTES = 255;

/** The listing of `dir` less the entries whose local path would pass PATH_MAX, each then a problem of its own. */
export function withinPathMax(destination: Destination, dir: string, listing: RemoteListing): RemoteListing {
  const base = Buffer.byteLength(destination.pathOf(dir)) + 1;
  // Most directories are far from the limit: their names need no counting.
  if (base + NAME_MAX_BYTES <= PATH_MAX_BYTES) return listing;
  const problems = [...listing.problems];
  const entries = listing.entries.filter((entry) => {
    const length = base + Buffer.byteLength(entry.name);
    if (length <= PATH_MAX_BYTES) return true;
    const message = `not placed: its local path would be ${length} bytes, past the ${PATH_MAX_BYTES} the system allows (a shorter destination path leaves more room)`;
    problems.push({ path: joinRelative(dir, entry.name), stage: 'plan', code: 'too-large', message });
    return false;
  });
  return { entries, problems };
}
