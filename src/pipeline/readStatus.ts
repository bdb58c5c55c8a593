import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GsyncError } from '../errors/GsyncError.js';
import { STATE_DIR_NAME } from '../local/paths.js';
import { StateStore, type RunRecord } from '../state/store.js';

/** The last runs recorded in a destination's state file, newest first. Read-only: safe during a run. */
export function readStatus(localDir: string, limit: number): RunRecord[] {
  const file = join(resolve(localDir), STATE_DIR_NAME, 'state.db');
  if (!existsSync(file)) {
    throw new GsyncError('local-path', `${resolve(localDir)} has no gsync state (${file} is missing)`, {
      hint: 'give the directory a gsync pull wrote into',
    });
  }
  const store = StateStore.open(file, { readonly: true });
  try {
    return store.lastRuns(limit);
  } finally {
    store.close();
  }
}
