import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { bytesDone, percentDone } from '../core/blocks.js';
import { localIoError } from '../errors/classify.js';
import { GsyncError } from '../errors/GsyncError.js';
import { lockHolder, type LockOwner } from '../local/lock.js';
import { STATE_DIR_NAME } from '../local/paths.js';
import { StateStore, type DirRecord, type RunRecord } from '../state/store.js';

/** A file begun in blocks and not finished: the next run resumes it. */
export interface PartialStatus {
  readonly path: string;
  readonly size: number;
  readonly bytesDone: number;
  readonly percent: number;
}

export interface Status {
  readonly runs: readonly RunRecord[];
  /** Who is pulling into this destination now (its lock's live holder): the newest unfinished run is theirs. */
  readonly running?: LockOwner;
  readonly partials: readonly PartialStatus[];
  /** Directories whose last walk did not end complete. */
  readonly dirs: readonly DirRecord[];
}

/** The last runs recorded in a destination's state file (newest first) and its partials. Read-only: safe during a run. */
export function readStatus(localDir: string, limit: number): Status {
  const file = join(resolve(localDir), STATE_DIR_NAME, 'state.db');
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    // Missing is not the same as kept from us (a .gsync of another user's, mode 0700).
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw localIoError(error, 'cannot read the state file');
    throw new GsyncError('local-path', `${resolve(localDir)} has no gsync state (${file} is missing)`, {
      hint: 'give the directory a gsync pull wrote into',
    });
  }
  // Empty: a first run stopped (a full disk) before it could record anything.
  if (size === 0) return { runs: [], partials: [], dirs: [] };
  const store = StateStore.open(file, { readonly: true });
  try {
    const partials = store.partials().map((p) => ({
      path: p.path,
      size: p.size,
      bytesDone: bytesDone(p),
      percent: percentDone(p),
    }));
    const running = lockHolder(dirname(file));
    return { runs: store.lastRuns(limit), ...(running ? { running } : {}), partials, dirs: store.unfinishedDirs() };
  } finally {
    store.close();
  }
}
