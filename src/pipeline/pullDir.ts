import { statfsSync, type StatsFs } from 'node:fs';
import { chmod, lutimes, mkdir, rm, symlink } from 'node:fs/promises';
import { BLOCKED_FROM } from '../core/blocks.js';
import { formatBytes } from '../core/format.js';
import { localModeOf } from '../core/modes.js';
import type { RetryPolicy } from '../core/retry.js';
import { joinRelative } from '../core/names.js';
import { dirInputOf, planDir, type PlanOptions } from '../core/plan.js';
import type { Action, DirAttrs, DirInput, DirOutcome, DirRef, LocalEntry, ManifestRow, Problem, RemoteEntry } from '../core/types.js';
import { diskFullError, localIoError } from '../errors/classify.js';
import type { Committer } from '../local/atomic.js';
import { setDirAttrs, setFileMode } from '../local/attrs.js';
import type { PlannedDeletion } from '../local/deletion.js';
import type { LocalDirs } from '../local/localDirs.js';
import type { LocalListingAhead } from '../local/listingAhead.js';
import type { Destination } from '../local/paths.js';
import { STATE_DIR_NAME } from '../local/paths.js';
import { withinPathMax } from '../local/pathMax.js';
import { listLocalDir } from '../local/scan.js';
import { remotePathOf } from '../remote/scan.js';
import type { StateStore } from '../state/store.js';
import { batchFiles } from '../transfer/batch.js';
import type { AtRiskBudget } from '../transfer/atRisk.js';
import type { TransferPool } from '../transfer/pool.js';
import type { FileResult, FileTask } from '../transfer/protocol.js';
import { pullBigFile } from './bigFile.js';
import { reportOrRetry } from './changing.js';
import type { DirCompletion } from './dirCompletion.js';
import type { Lister } from './lister.js';
import type { FileTransfer } from './events.js';
import { retrying, taskFailure, type RetryInfo } from './retrying.js';
import type { TarLane } from './tarLane.js';
import type { Tally } from './tally.js';

/** Everything one directory's pull needs; shared by all directories of a run. */
export interface PullContext {
  readonly lister: Lister;
  /** The server-side path the relative paths hang from. */
  readonly remoteRoot: string;
  /** Single-file pull: the root listing is just this entry, and the root itself is not ours. */
  readonly only: RemoteEntry | undefined;
  readonly rootAttrs: { readonly mtime: number; readonly mode: number } | undefined;
  readonly destination: Destination;
  readonly store: StateStore;
  readonly runId: number;
  readonly committer: Committer;
  readonly localDirs: LocalDirs;
  /** Local directories listed before the walk reached them (listingAhead.ts), if any are. */
  readonly localAhead: LocalListingAhead | undefined;
  readonly transfers: () => TransferPool;
  /** The run's bytes at risk: room a block held comes back once the state file has it. */
  readonly atRisk: AtRiskBudget;
  /** Small files through the server's tar, when it has one (absent with --no-tar or --bwlimit). */
  readonly tarLane: TarLane | undefined;
  readonly completion: DirCompletion;
  readonly tally: Tally;
  /** With `retry`, the message says a transient failure is being tried again. */
  readonly notice: (path: string, message: string, retry?: RetryInfo) => void;
  readonly fileDone: (row: ManifestRow, bytes: number, transfer: FileTransfer) => void;
  readonly partialPath: () => string;
  readonly retry: RetryPolicy;
  readonly signal: AbortSignal | undefined;
  /** --append, --links, the umask, filters, --delete: what every directory is planned with. */
  readonly plan: PlanOptions;
  /** Directories deeper than this are reported, not descended into. */
  readonly maxDepth: number;
  /** --delete: local entries the remote no longer has are collected here, removed after the walk. */
  readonly deletions: PlannedDeletion[];
  /** The worker pool's size: how many parts a big file may be cut into. */
  readonly connections: number;
}

/**
 * Lists, plans and carries out one directory; says how its own part ended. Subdirectories are
 * handed to `descend` as soon as they exist locally, so the walk goes on while this directory's
 * files are in flight; `handedOver` is told how many once they are all on their way.
 */
export async function pullDir(ctx: PullContext, ref: DirRef, descend: (sub: DirRef) => void, handedOver: (files: number) => void): Promise<DirOutcome> {
  const dir = ref.path;
  await ctx.localDirs.verify(dir);
  const { input, listed } = await gather(ctx, ref);
  const plan = planDir(input);
  await openUp(ctx, dir, input.local, plan.subdirs);
  ctx.completion.opened(dir, plan.subdirs.length, plan.attrs);
  ctx.tally.dirs++;

  const fetches: Array<Extract<Action, { type: 'fetch' }>> = [];
  const appends: Array<Extract<Action, { type: 'append' }>> = [];
  const adopted: ManifestRow[] = [];
  const placing: Array<Promise<void>> = [];
  for (const action of plan.actions) {
    switch (action.type) {
      case 'mkdir':
        await makeDir(ctx.destination.pathOf(action.path), action.replace);
        break;
      case 'fetch':
        fetches.push(action);
        ctx.tally.bytesPlanned += action.entry.size;
        ctx.tally.filesPlanned++;
        break;
      case 'append':
        appends.push(action);
        ctx.tally.bytesPlanned += action.entry.size - action.from;
        ctx.tally.filesPlanned++;
        break;
      case 'symlink':
        placing.push(placeSymlink(ctx, action.path, action.target, action.entry));
        break;
      case 'adopt':
        if (action.entry.kind === 'file') await setFileMode(ctx.destination.pathOf(action.path), localModeOf(action.entry.mode, ctx.plan.umask));
        adopted.push(rowOf(action.path, action.entry));
        countSkipped(ctx.tally, action.entry);
        break;
      case 'skip':
        countSkipped(ctx.tally, action.entry);
        break;
      case 'conflict':
        ctx.tally.problem({ path: action.path, stage: 'plan', code: 'conflict', message: action.reason }, dir);
        break;
      case 'unsupported':
        ctx.notice(action.path, action.reason);
        break;
      case 'hold':
        break;
      case 'delete':
        ctx.deletions.push({ path: action.path, kind: action.entry.kind });
        break;
    }
  }
  ctx.store.recordEntries(adopted, ctx.runId);
  for (const sub of plan.subdirs) {
    if (sub.path.split('/').length <= ctx.maxDepth) {
      descend(sub);
      continue;
    }
    ctx.tally.problem({ path: sub.path, stage: 'scan', code: 'too-large', message: `not descended into: deeper than ${ctx.maxDepth} levels (--max-depth raises the limit)` }, dir);
    // Left empty and writable (no remote attributes), and done as far as its parent is concerned.
    ctx.completion.opened(sub.path, 0, undefined);
    await ctx.completion.finished(sub.path);
  }
  placing.push(...fetchAll(ctx, withinFreeSpace(ctx, dir, fetches)));
  placing.push(
    ...appends.map(({ path, entry, from }) => pullBigFile(ctx, { path, remotePath: remotePathIn(ctx, path, entry), entry, row: rowOf(path, entry), appendFrom: from })),
  );
  handedOver(fetches.length + appends.length);
  await Promise.all(placing);
  if (!listed) return 'unlisted';
  return ctx.tally.problemsIn(dir) > 0 ? 'incomplete' : 'complete';
}

/** The planner's input for one directory, and whether its remote listing was whole. */
async function gather(ctx: PullContext, ref: DirRef): Promise<{ input: DirInput; listed: boolean }> {
  const dir = ref.path;
  const single = dir === '' ? ctx.only : undefined;
  // The remote listing is asked for first: the local one is read (synchronously) while it comes.
  const remote = single ? { entries: [single], problems: [] } : ctx.lister.list(ctx.remoteRoot, dir, (message, retry) => ctx.notice(dir, message, retry));
  const [whole, local] = await Promise.all([remote, listLocal(ctx, dir)]);
  const listing = single ? whole : withinPathMax(ctx.destination, dir, whole);
  const state = ctx.store.manifestIn(dir);
  const base = dirInputOf(dir, listing.entries, listing.problems.length === 0, local, state, ctx.plan, single);
  if (single) return { input: base, listed: true };
  for (const problem of listing.problems) ctx.tally.problem(problem, dir);
  // A directory we could not list keeps a writable mode, so the next run can still fill it.
  const listed = !listing.problems.some((p) => p.path === dir);
  return { input: listed && ref.attrs ? { ...base, self: ref.attrs } : base, listed };
}

/**
 * A subdirectory an earlier run left read-only (the remote's 000 or 0500) is made the user's to
 * fill again before it is walked; its remote mode comes back when its subtree is done.
 */
async function openUp(ctx: PullContext, dir: string, local: readonly LocalEntry[], subdirs: readonly DirRef[]): Promise<void> {
  const walked = new Set(subdirs.map((sub) => sub.path));
  const shut = local.filter((e) => e.kind === 'dir' && (e.mode & 0o700) !== 0o700 && walked.has(joinRelative(dir, e.name)));
  // By path: a mode without read permission cannot be opened to fchmod. The listing just lstat'ed it as a directory.
  await Promise.all(shut.map((e) => chmod(ctx.destination.pathOf(joinRelative(dir, e.name)), e.mode | 0o700)));
}

/**
 * Checked before a byte is sent: a file larger than the whole destination file system could
 * never land (a server announcing petabytes gets nothing allocated), and is refused on its own;
 * one larger than the room left would only fill the disk, so the run stops as a full disk does
 * (exit 11), not file by file. What a big file's partial already holds counts as room.
 */
function withinFreeSpace(ctx: PullContext, dir: string, fetches: readonly Fetch[]): Fetch[] {
  if (fetches.length === 0) return [];
  const space = freeSpaceOf(ctx.destination.root);
  if (!space) return [...fetches];
  const free = space.bavail * space.bsize;
  const capacity = space.blocks * space.bsize;
  const heldFor = (path: string, size: number): number => {
    const partial = ctx.store.partialFor(path);
    return partial && partial.size === size ? partial.blocks.size * partial.blockSize : 0;
  };
  return fetches.filter(({ path, entry }) => {
    // The state file is asked only about a file that would not fit otherwise.
    if (entry.size <= free || entry.size <= free + heldFor(path, entry.size)) return true;
    if (entry.size <= capacity) throw diskFullError(`${path} (${formatBytes(entry.size)}) cannot fit`);
    const message = `${formatBytes(entry.size)} cannot fit: larger than the whole destination file system (${formatBytes(capacity)})`;
    ctx.tally.problem({ path, stage: 'plan', code: 'too-large', message }, dir);
    ctx.tally.bytesPlanned -= entry.size;
    return false;
  });
}

/**
 * The destination file system's room, or undefined if it cannot be had. Synchronously: the
 * call takes microseconds, where its promise (once per directory) cost the main thread of a
 * 20,000-file first pull ~50 ms while it was listing.
 */
function freeSpaceOf(path: string): StatsFs | undefined {
  try {
    return statfsSync(path);
  } catch {
    return undefined;
  }
}

/** Async though it reads synchronously: a failure to list is a rejection, awaited beside the remote listing. */
async function listLocal(ctx: PullContext, dir: string): Promise<LocalEntry[]> {
  const path = ctx.destination.pathOf(dir);
  try {
    return ctx.localAhead?.take(dir) ?? listLocalDir(path, dir === '' ? STATE_DIR_NAME : undefined);
  } catch (error) {
    throw localIoError(error, `cannot list local directory ${path}`);
  }
}

async function makeDir(path: string, replace: boolean): Promise<void> {
  if (replace) await rm(path, { force: true });
  await mkdir(path, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}

/** Symlinks are made in the partial dir and renamed into place like files: replacing one is atomic. */
async function placeSymlink(ctx: PullContext, path: string, target: string, entry: RemoteEntry): Promise<void> {
  const partial = ctx.partialPath();
  await symlink(target, partial);
  await lutimes(partial, entry.mtime, entry.mtime);
  const problem = await ctx.committer.commit({ partialPath: partial, row: rowOf(path, entry) });
  if (problem) ctx.tally.problem(problem);
  else ctx.tally.symlinks++;
}

/** `attempt` counts the reads of these files in this run: more than one when they changed while read. */
function fetchAll(ctx: PullContext, fetches: readonly Fetch[], attempt = 1): Array<Promise<void>> {
  const big = fetches.filter((f) => f.entry.size >= BLOCKED_FROM);
  const small = fetches.filter((f) => f.entry.size < BLOCKED_FROM);
  return [
    ...big.map(({ path, entry }) => pullBigFile(ctx, { path, remotePath: remotePathIn(ctx, path, entry), entry, row: rowOf(path, entry), attempt })),
    ...fetchSmall(ctx, small, attempt),
  ];
}

type Fetch = Pick<Extract<Action, { type: 'fetch' }>, 'path' | 'entry'>;

function remotePathIn(ctx: PullContext, path: string, entry: RemoteEntry): string {
  return remotePathOf(ctx.remoteRoot, ctx.only ? entry.name : path);
}

/**
 * Small files travel whole, many to a task, each into a partial of its own that a kill simply
 * loses: first through the server's tar (many directories to a task), then what tar did not
 * bring by SFTP.
 */
function fetchSmall(ctx: PullContext, fetches: readonly Fetch[], attempt: number): Array<Promise<void>> {
  if (fetches.length === 0) return [];
  const pending = new Map<string, { task: FileTask; entry: RemoteEntry }>();
  for (const { path, entry } of fetches) {
    const task = {
      path,
      remotePath: remotePathIn(ctx, path, entry),
      partialPath: ctx.partialPath(),
      size: entry.size,
      mtime: entry.mtime,
      mode: localModeOf(entry.mode, ctx.plan.umask),
    };
    pending.set(path, { task, entry });
  }
  return [fetchPending(ctx, pending, attempt)];
}

async function fetchPending(ctx: PullContext, pending: ReadonlyMap<string, { task: FileTask; entry: RemoteEntry }>, attempt: number): Promise<void> {
  const tasks = [...pending.values()].map((p) => p.task);
  const { fetched: viaTar, failure: tarFailure } = ctx.tarLane ? await ctx.tarLane.fetch(tasks) : { fetched: new Set<string>(), failure: undefined };
  const placed = [...viaTar].map((path) => {
    const sent = pending.get(path) as { task: FileTask; entry: RemoteEntry };
    return placeFetched(ctx, sent.task.partialPath, rowOf(path, sent.entry), sent.entry.size, 'tar');
  });
  const bySftp = batchFiles(tasks.filter((task) => !viaTar.has(task.path))).map(async (batch) => {
    let left = batch;
    const failed: Array<{ file: Extract<FileResult, { kind: 'failed' }>; entry: RemoteEntry }> = [];
    // The link failed under tar: that was these files' first attempt, and --retries counts it.
    await retrying(ctx, 'trying again', (message, retry) => ctx.notice(left[0]?.path ?? '', message, retry), async () => {
      const result = await ctx.transfers().run({ kind: 'fetch', files: left });
      await Promise.all(
        result.files.map(async (file) => {
          const sent = pending.get(file.path);
          // A path the worker made up is ignored.
          if (!sent) return;
          if (file.kind === 'fetched') return placeFetched(ctx, sent.task.partialPath, rowOf(file.path, sent.entry), file.bytes);
          failed.push({ file, entry: sent.entry });
          return rm(sent.task.partialPath, { force: true });
        }),
      );
      // A retry sends only the files this attempt did not finish.
      const finished = new Set(result.files.map((f) => f.path));
      left = left.filter((task) => !finished.has(task.path));
      return { failure: taskFailure(result), progressed: finished.size > 0 };
    }, tarFailure);
    // Reported, or read again if they changed while read: after the batch, not inside its attempt.
    await Promise.all(
      failed.map(({ file, entry }) =>
        reportOrRetry(ctx, file.path, file, attempt, (now, next) =>
          Promise.all(fetchAll(ctx, [{ path: file.path, entry: { ...entry, ...now } }], next)).then(() => undefined),
        ),
      ),
    );
  });
  await Promise.all([...placed, ...bySftp]);
}

/** A complete partial: renamed into place in the next commit group, and counted, or its problem reported. */
export async function placeFetched(ctx: PullContext, partialPath: string, row: ManifestRow, bytes: number, transfer: FileTransfer = 'whole'): Promise<void> {
  const problem: Problem | undefined = await ctx.committer.commit({ partialPath, row });
  if (problem) {
    ctx.tally.problem(problem);
    return;
  }
  ctx.tally.filesTransferred++;
  ctx.tally.bytesTransferred += bytes;
  ctx.tally.sizeTransferred += row.size;
  ctx.fileDone(row, bytes, transfer);
}

function rowOf(path: string, entry: RemoteEntry): ManifestRow {
  return { path, kind: entry.kind, size: entry.size, mtime: entry.mtime, mode: entry.mode, linkTarget: entry.linkTarget ?? null };
}

function countSkipped(tally: Tally, entry: RemoteEntry): void {
  tally.filesSkipped++;
  tally.bytesSkipped += entry.size;
}

/** Applies a finished directory's remote mtime and mode (setuid/setgid/sticky dropped). */
export function applyDirAttrs(path: string, attrs: DirAttrs, umask: number): void {
  setDirAttrs(path, localModeOf(attrs.mode, umask), attrs.mtime);
}
