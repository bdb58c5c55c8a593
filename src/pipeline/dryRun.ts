import { existsSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deleteRefusal } from '../core/deleteGuard.js';
import { dirInputOf, planDir, type PlanOptions } from '../core/plan.js';
import type { Action, DirRef, LocalEntry } from '../core/types.js';
import { ExitCode, worstExitCode } from '../errors/exitCodes.js';
import { filesTakenBy, type PlannedDeletion } from '../local/deletion.js';
import { withinPathMax } from '../local/pathMax.js';
import { Destination, STATE_DIR_NAME } from '../local/paths.js';
import { listLocalDir } from '../local/scan.js';
import { runQueue } from '../schedule/queue.js';
import { StateStore } from '../state/store.js';
import type { DryRunSummary, EventSink, PlanItem } from './events.js';
import type { Lister } from './lister.js';
import type { RemoteRoot } from './remoteRoot.js';
import type { RetryInfo } from './retrying.js';
import { refuseNonDirectory } from './destination.js';
import { Tally } from './tally.js';

export interface DryRunInput {
  readonly localDir: string;
  readonly root: RemoteRoot;
  readonly lister: Lister;
  readonly sink: EventSink;
  readonly plan: PlanOptions;
  readonly maxDepth: number;
  readonly delete: { readonly maxDelete?: number; readonly allowMass: boolean } | undefined;
  readonly signal: AbortSignal | undefined;
  readonly started: number;
}

/** Directories listed at once, as in a real run. */
const DIRS_AT_ONCE = 8;

/**
 * --dry-run: lists both sides and plans every directory exactly as a run would, and says what
 * it would do, path by path; it creates nothing, not even the destination or its state file
 * (read, if there is one, to know what is recorded and how far partials got).
 */
export async function dryRun(input: DryRunInput): Promise<DryRunSummary> {
  const { root, sink } = input;
  const localRoot = resolve(input.localDir);
  await refuseNonDirectory(localRoot);
  const destination = new Destination(existsSync(localRoot) ? realpathSync(localRoot) : localRoot);
  const stateFile = join(destination.stateDir, 'state.db');
  // None yet, or empty (a first run that stopped before recording anything): nothing is recorded.
  const store = (statSync(stateFile, { throwIfNoEntry: false })?.size ?? 0) > 0 ? StateStore.open(stateFile, { readonly: true }) : undefined;
  const tally = new Tally(sink);
  const deletions: PlannedDeletion[] = [];
  const totals = { files: 0, bytes: 0, upToDate: 0 };
  try {
    const only = root.kind === 'file' ? root.entry : undefined;
    const remoteRoot = root.kind === 'dir' ? root.path : root.dir;
    await runQueue<DirRef>(
      [{ path: '', attrs: undefined }],
      DIRS_AT_ONCE,
      async (ref, enqueue) => {
        const dir = ref.path;
        const local = listLocalDir(destination.pathOf(dir), dir === '' ? STATE_DIR_NAME : undefined);
        const retried = (message: string, retry: RetryInfo): void => sink.emit({ type: 'retry', path: dir, message, ...retry });
        const listing = only ? { entries: [only], problems: [] } : withinPathMax(destination, dir, await input.lister.list(remoteRoot, dir, retried));
        for (const problem of listing.problems) tally.problem(problem, dir);
        const plan = planDir(dirInputOf(dir, listing.entries, listing.problems.length === 0, local, store?.manifestIn(dir) ?? [], input.plan, only));
        const localByName = new Map(local.map((e) => [e.name, e]));
        const items = plan.actions.flatMap((action) => itemOf(action, localByName, store, dir, totals));
        for (const item of items.sort((a, b) => (a.path < b.path ? -1 : 1))) sink.emit({ type: 'planned', item });
        for (const action of plan.actions) if (action.type === 'delete') deletions.push({ path: action.path, kind: action.entry.kind });
        for (const sub of plan.subdirs) {
          if (sub.path.split('/').length <= input.maxDepth) enqueue(sub);
        }
      },
      input.signal,
    );
    const files = await filesTakenBy(destination, deletions);
    const refused = input.delete && deleteRefusal(files, { ...input.delete, knownFiles: store?.countFiles() ?? 0 });
    const exitCode = worstExitCode([tally.problemsExitCode(), ...(refused ? [ExitCode.deleteGuard] : [])]);
    const summary: DryRunSummary = {
      filesToTransfer: totals.files,
      bytesToTransfer: totals.bytes,
      upToDate: totals.upToDate,
      toDelete: deletions.map((d) => d.path),
      filesToDelete: files,
      ...(refused ? { deleteRefused: refused } : {}),
      problems: [...tally.problems],
      durationMs: Date.now() - input.started,
      exitCode,
    };
    sink.emit({ type: 'dry-run-done', summary });
    return summary;
  } finally {
    store?.close();
  }
}

/** What a run would do for one action, as a line of the plan; up-to-date entries are only counted. */
function itemOf(
  action: Action,
  local: ReadonlyMap<string, LocalEntry>,
  store: StateStore | undefined,
  dir: string,
  totals: { files: number; bytes: number; upToDate: number },
): PlanItem[] {
  const name = action.path.slice(dir === '' ? 0 : dir.length + 1);
  switch (action.type) {
    case 'mkdir':
      return [{ change: 'mkdir', path: `${action.path}/` }];
    case 'fetch': {
      totals.files++;
      const partial = store?.partialFor(action.path);
      if (partial && partial.size === action.entry.size && partial.mtime === action.entry.mtime && partial.blocks.size > 0) {
        const done = Math.min(action.entry.size, partial.blocks.size * partial.blockSize);
        totals.bytes += action.entry.size - done;
        return [{ change: 'resume', path: action.path, bytes: action.entry.size - done, detail: `at ${Math.floor((100 * done) / action.entry.size)}%` }];
      }
      totals.bytes += action.entry.size;
      return [{ change: local.has(name) ? 'changed' : 'new', path: action.path, bytes: action.entry.size }];
    }
    case 'append':
      totals.files++;
      totals.bytes += action.entry.size - action.from;
      return [{ change: 'append', path: action.path, bytes: action.entry.size - action.from, detail: `from ${action.from} bytes` }];
    case 'symlink':
      return [{ change: 'symlink', path: action.path, detail: `-> ${action.target}` }];
    case 'adopt':
      totals.upToDate++;
      return [{ change: 'attrs', path: action.path }];
    case 'skip':
      totals.upToDate++;
      return [];
    case 'hold':
    case 'unsupported':
      return [{ change: 'skip', path: action.path, detail: action.reason }];
    case 'conflict':
      return [{ change: 'conflict', path: action.path, detail: action.reason }];
    case 'delete':
      return [{ change: 'delete', path: action.entry.kind === 'dir' ? `${action.path}/` : action.path }];
  }
}
