import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultLocalName, sftpPath } from '../core/target.js';
import type { DirOutcome, DirRef, RunSummary } from '../core/types.js';
import type { LinksMode } from '../core/links.js';
import { deleteRefusal } from '../core/deleteGuard.js';
import type { PlanOptions } from '../core/plan.js';
import { defaultRetryPolicy, type RetryPolicy } from '../core/retry.js';
import type { Selection } from '../core/selection.js';
import { formatBytes } from '../core/format.js';
import { ExitCode, worstExitCode } from '../errors/exitCodes.js';
import { classify, isDiskFull } from '../errors/classify.js';
import { GsyncError, isGsyncError } from '../errors/GsyncError.js';
import { Committer } from '../local/atomic.js';
import { deleteEntries, filesTakenBy, type PlannedDeletion } from '../local/deletion.js';
import { LocalDirs } from '../local/localDirs.js';
import { LocalListingAhead } from '../local/listingAhead.js';
import { PartialNames } from '../local/partialNames.js';
import { acquireLock } from '../local/lock.js';
import { SpaceReserve } from '../local/spaceReserve.js';
import { Destination } from '../local/paths.js';
import type { SettingsOverrides } from '../ssh/settings.js';
import type { ConnectSpec } from '../ssh/spec.js';
import type { Session } from '../ssh/connect.js';
import { defaultListingBounds, type ListingBounds } from '../remote/scan.js';
import { maxOpenHandles } from '../remote/sftp.js';
import { listTree, MAX_TREE_ENTRIES } from '../remote/treeListing.js';
import { StateStore } from '../state/store.js';
import { runQueue } from '../schedule/queue.js';
import { AtRiskBudget } from '../transfer/atRisk.js';
import { shareBandwidth } from '../transfer/bandwidth.js';
import type { ByteMeter } from '../transfer/meter.js';
import { TransferPool, defaultConnections } from '../transfer/pool.js';
import { TAR_COMMAND } from '../transfer/tarFetch.js';
import { prepareDestination, sweepPartials, sweepStalePartials } from './destination.js';
import { DirCompletion } from './dirCompletion.js';
import { dirsAtOnce } from './dirsAtOnce.js';
import { dryRun } from './dryRun.js';
import { openFirstConnection, type FirstConnection } from './firstConnection.js';
import type { DryRunSummary, EventSink } from './events.js';
import { listAhead, Lister } from './lister.js';
import { ProgressTicker } from './progress.js';
import { applyDirAttrs, pullDir, type PullContext } from './pullDir.js';
import { resolveRemoteRoot, type RemoteRoot } from './remoteRoot.js';
import { Tally } from './tally.js';
import { TarLane } from './tarLane.js';

/** What `gsync pull` was asked to do. */
export interface PullRequest {
  /** `<alias>:<remote-path>` as typed. */
  readonly source: string;
  readonly localDir?: string;
  /** -F, -i, -p, -l, -o: as ssh takes them. */
  readonly ssh?: SettingsOverrides;
  readonly connections?: number;
  /** --bwlimit, in bytes per second: one budget for all the transfer connections together. */
  readonly bytesPerSecond?: number;
  /** --no-tar: small files by SFTP only, never through the server's tar. */
  readonly noTar?: boolean;
  /** --timeout: seconds without data before a connection counts as stalled (default 60). */
  readonly timeoutSeconds?: number;
  /** --retries: attempts in a row without progress before a dropped or stalled link ends the run (default 5). */
  readonly retries?: number;
  /** --append: extend files that only grew since their last complete copy. */
  readonly append?: boolean;
  /** --links: which remote symlinks are made (default safe: only those that cannot lead outside). */
  readonly links?: LinksMode;
  /** --max-dir-entries: a remote directory listing more is not used (default 1,000,000). */
  readonly maxDirEntries?: number;
  /** --max-depth: directories deeper than this are not descended into (default 64, as OpenSSH's own recursion). */
  readonly maxDepth?: number;
  /** --max-entries: remote entries listed in all, past which no more directories are listed (default 10,000,000). */
  readonly maxEntries?: number;
  /** --include/--exclude, --min-size/--max-size, --min-age. */
  readonly selection?: Selection;
  /** --delete, with its guards. */
  readonly delete?: { readonly maxDelete?: number; readonly allowMass: boolean };
  /** --dry-run: say what would be done, and do none of it. */
  readonly dryRun?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Aborting stops new work, keeps what is in place, and ends the run with exit 20; or, when the
   * abort's reason is a GsyncError (--max-duration's time limit), by throwing that error instead.
   */
  readonly signal?: AbortSignal;
}

/** OpenSSH's sftp stops its own recursion at this depth; no real tree goes deeper. */
const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_ENTRIES = 10_000_000;

/**
 * Files handed over and not yet landed, in the directories the walk has gone past: what those
 * hold in memory. Counted in directories alone (32 × 9), a first pull of 1,000,000 files, 1,000
 * a directory, held ~288,000 at once and reached 1.6 GiB of RSS.
 */
const FILES_BEHIND = 16_384;

/**
 * Pulls a remote tree (or one file) into a local directory:
 * resolve → connect → stat the root → lock the destination → walk directories (list both
 * sides, plan, transfer through the workers, commit in groups) → record the run.
 * Whole-run failures throw a GsyncError; per-path failures end up in the summary. `connecting`:
 * the first connection, when the caller started it already (firstConnection.ts says why).
 */
export async function runPull(request: PullRequest, sink: EventSink, connecting?: Promise<FirstConnection>): Promise<RunSummary | DryRunSummary> {
  const { started, target, spec, session, stallTimeoutMs, meter } = await (connecting ?? openFirstConnection(request));
  try {
    // A first pull's small files come by tar, the first of them over this connection: the
    // server's tar starts now, while the root is listed.
    const warmed = tarAllowed(request) && !request.dryRun && looksLikeFirstPull(request, target.path);
    if (warmed) {
      session.warmExec(TAR_COMMAND);
      // The tar's reader is needed the moment the first names are: its code loads while the root is listed.
      import('../transfer/taskRunner.js').catch(() => undefined);
    }
    // Asked for with the root's STAT: both travel at once, and the names arrive while the destination is made ready.
    const rootListing = listAhead(session, sftpPath(target.path), '', listingBounds(request), stallTimeoutMs);
    const asked = performance.now();
    const root = await resolveRemoteRoot(session.sftp, spec.alias, target.path);
    // How far ahead the walk must list to keep this link busy.
    const roundTripMs = performance.now() - asked;
    const localDir = localDirFor(root, target.path, request.localDir);
    if (request.dryRun) return await planOnly(request, sink, { session, spec, root, rootListing, localDir, started, stallTimeoutMs });
    const destination = await prepareDestination(localDir);
    const lock = await acquireLock(destination.stateDir);
    try {
      const store = openState(destination);
      try {
        const firstPull = !store.knowsAnyFile();
        // A first pull the guess above missed (a state file that records no file yet).
        if (firstPull && tarAllowed(request) && !warmed) session.warmExec(TAR_COMMAND);
        await sweepPartials(destination, new Set(store.partials().map((p) => p.name)));
        const reserve = await SpaceReserve.claim(destination.stateDir);
        const runId = store.startRun(request.source, started);
        sink.emit({ type: 'start', runId, source: request.source, destination: destination.root });
        return await walk({ request, sink, session, root, rootListing, store, firstPull, runId, started, destination, spec, reserve, stallTimeoutMs, meter, dirs: dirsAtOnce({ roundTripMs, serverHandles: maxOpenHandles(session.sftp), firstPull }) });
      } finally {
        store.close();
      }
    } finally {
      await lock.release();
    }
  } finally {
    session.close();
  }
}

/** --dry-run over the connection runPull opened. */
function planOnly(
  request: PullRequest,
  sink: EventSink,
  run: { session: Session; spec: ConnectSpec; root: RemoteRoot; rootListing: RootListing; localDir: string; started: number; stallTimeoutMs: number },
): Promise<DryRunSummary> {
  const lister = new Lister(run.session, run.spec, retryPolicyOf(request), request.signal, listingBounds(request), run.stallTimeoutMs);
  if (run.root.kind === 'dir') lister.adopt('', run.rootListing);
  return dryRun({
    localDir: run.localDir,
    root: run.root,
    lister,
    sink,
    plan: planOptionsOf(request, process.umask()),
    maxDepth: request.maxDepth ?? DEFAULT_MAX_DEPTH,
    delete: request.delete,
    signal: request.signal,
    started: run.started,
  }).finally(() => lister.close());
}

/** --bwlimit paces SFTP READs; a tar stream has no such pacing, so a capped run does without it. */
function tarAllowed(request: PullRequest): boolean {
  return !request.noTar && !request.bytesPerSecond;
}

/**
 * Whether the walk should list the whole tree in one stream. Not under --no-tar (no command runs
 * on the server), not with filter rules (an excluded directory is never listed), and not for a
 * mirror past what one stream may hold: the state file says how big it was last time.
 */
function treeWanted(request: PullRequest, store: StateStore): boolean {
  return !request.noTar && request.selection?.filter === undefined && !store.holdsMoreThan(MAX_TREE_ENTRIES);
}

function retryPolicyOf(request: PullRequest): RetryPolicy {
  return { ...defaultRetryPolicy, retries: request.retries ?? defaultRetryPolicy.retries };
}

function planOptionsOf(request: PullRequest, umask: number): PlanOptions {
  return { append: request.append ?? false, links: request.links ?? 'safe', umask, selection: request.selection ?? {}, delete: request.delete !== undefined };
}

function listingBounds(request: PullRequest): ListingBounds & { readonly maxTotalEntries: number } {
  return { maxEntries: request.maxDirEntries ?? defaultListingBounds.maxEntries, maxTotalEntries: request.maxEntries ?? DEFAULT_MAX_ENTRIES };
}

type RootListing = ReturnType<typeof listAhead>;

interface WalkInput {
  readonly request: PullRequest;
  readonly sink: EventSink;
  readonly spec: ConnectSpec;
  readonly session: Session;
  readonly root: RemoteRoot;
  /** The root's listing, asked for with its STAT (listAhead). */
  readonly rootListing: RootListing;
  readonly destination: Destination;
  readonly store: StateStore;
  /** The state file knows no file in the destination: everything listed will be fetched. */
  readonly firstPull: boolean;
  readonly runId: number;
  readonly started: number;
  readonly reserve: SpaceReserve;
  /** --timeout, in ms: how long any connection may go without an answer. */
  readonly stallTimeoutMs: number;
  /** Every connection's received bytes, and the file bytes among them (the workers add theirs). */
  readonly meter: ByteMeter;
  /** Directories worked on at once (dirsAtOnce.ts). */
  readonly dirs: number;
}

async function walk(input: WalkInput): Promise<RunSummary> {
  const { request, sink, session, root, rootListing, store, firstPull, runId, destination, spec, stallTimeoutMs, meter, dirs } = input;
  // Stops the walk: the user's interrupt, or the first fatal failure (which no other directory can get past either).
  const stop = new AbortController();
  const interrupt = (): void => stop.abort();
  request.signal?.addEventListener('abort', interrupt, { once: true });
  if (request.signal?.aborted) stop.abort();
  // Read once: a pulled entry gets the mode a file the user creates would get.
  const umask = process.umask();
  const tally = new Tally(sink);
  const localDirs = new LocalDirs(destination);
  const committer = new Committer(destination, localDirs, (rows) => store.recordEntries(rows, runId));
  let pool: TransferPool | undefined;
  const connections = request.connections ?? defaultConnections();
  const retry = retryPolicyOf(request);
  const lister = new Lister(session, spec, retry, stop.signal, listingBounds(request), stallTimeoutMs, (bytes) => meter.addWire(bytes));
  if (root.kind === 'dir') lister.adopt('', rootListing);
  const tree = root.kind === 'dir' && treeWanted(request, store);
  if (tree) lister.adoptTree(listTree(session, root.path, listingBounds(request), stallTimeoutMs));
  // While the tree comes, the thread that waits for it reads the local one (a re-run's).
  const localAhead = tree && !firstPull ? new LocalListingAhead(destination) : undefined;
  // Unguessable, so nothing can be planted at a partial's name before it is made: the run's
  // secret, drawn once (a draw per name cost 90 ms of the main thread in a 20,000-file pull).
  const partialNames = new PartialNames(destination.partialDir, `${runId}-${randomBytes(8).toString('hex')}`);
  const completion = new DirCompletion(async (dir, attrs) => {
    applyDirAttrs(destination.pathOf(dir), attrs, umask);
    if (dir !== '') store.recordDir(dir, attrs, runId);
  });
  const bandwidth = request.bytesPerSecond ? shareBandwidth(request.bytesPerSecond) : undefined;
  // One budget for the run: a kill costs what every block task together had at risk.
  const atRisk = new AtRiskBudget();
  const transfers = (): TransferPool =>
    (pool ??= new TransferPool(
      { spec, trust: session.trust, stallTimeoutMs, meter: meter.buffer, atRisk: atRisk.buffer, ...(bandwidth ? { bandwidth } : {}) },
      {
        connections,
        // Nothing more is coming soon: what waits to be committed goes now, not after the group gap.
        onDrained: () => void committer.flush(),
        // A destination the state file knows nothing in: everything listed will be fetched. A
        // single file is no tree to spread over workers: its one task may go over the connection
        // already open (a 50 MiB file: 617 → 489 ms, the worker's start and login not waited for).
        firstPull: firstPull && root.kind === 'dir',
        // A stalled one is closed: the lister opens another for the next listing or task.
        mainLane: import('../transfer/taskRunner.js').then(
          ({ TaskRunner }) =>
            new TaskRunner(
              { connection: () => lister.connection(), discard: (stalled) => stalled.close() },
              { alias: spec.alias, stallTimeoutMs, meter, atRisk, ...(bandwidth ? { bandwidth } : {}) },
            ),
        ),
      },
    ));
  const ctx: PullContext = {
    lister,
    remoteRoot: root.kind === 'dir' ? root.path : root.dir,
    only: root.kind === 'file' ? root.entry : undefined,
    rootAttrs: root.kind === 'dir' ? { mtime: root.mtime, mode: root.mode } : undefined,
    destination,
    store,
    runId,
    committer,
    localDirs,
    localAhead,
    transfers,
    atRisk,
    tarLane: tarAllowed(request) ? new TarLane(transfers) : undefined,
    retry,
    signal: stop.signal,
    plan: planOptionsOf(request, umask),
    maxDepth: request.maxDepth ?? DEFAULT_MAX_DEPTH,
    deletions: [],
    connections,
    completion,
    tally,
    notice: (path, message, retry) => sink.emit(retry ? { type: 'retry', path, message, ...retry } : { type: 'notice', path, message }),
    fileDone: (row, bytes, transfer) => sink.emit({ type: 'file', path: row.path, bytes, size: row.size, transfer }),
    partialPath: () => partialNames.next(),
  };

  // Workers and the main connection stop at once (a task on the main lane with them); the queue
  // stops issuing directories when it sees the signal.
  stop.signal.addEventListener(
    'abort',
    () => {
      void pool?.close();
      lister.close();
      ctx.tarLane?.stop();
    },
    { once: true },
  );
  let fatal: GsyncError | undefined;
  // Recorded with the run's end, in one transaction: a killed run's walk is simply done again.
  const outcomes: Array<{ path: string; outcome: DirOutcome }> = [];
  const fail = (error: unknown): void => {
    if (!request.signal?.aborted) fatal ??= classify(error);
    stop.abort();
  };
  const ticker = new ProgressTicker(sink, tally, meter, () => pool?.current());
  // Each directory queued is one the tar lane may still get files from, until it has handed them over.
  const queued = (ref: DirRef): { ref: DirRef; handedOver: () => void } => ({ ref, handedOver: ctx.tarLane?.expect() ?? (() => undefined) });
  try {
    await runQueue(
      [queued({ path: '', attrs: ctx.rootAttrs })],
      dirs,
      async ({ ref, handedOver }, enqueue, release) => {
        try {
          sink.emit({ type: 'dir-start', path: ref.path });
          // Once its files are handed over, the directory only waits for them to land: the walk goes on without it.
          const handed = (files: number): void => {
            handedOver();
            release(files);
          };
          const outcome = await pullDir(ctx, ref, (sub) => enqueue(queued(sub)), handed).finally(handedOver);
          // A directory cut short by a stop has no outcome yet: the next run walks it again.
          if (!stop.signal.aborted) {
            outcomes.push({ path: ref.path, outcome });
            sink.emit({ type: 'dir-done', path: ref.path, outcome, problems: tally.problemsIn(ref.path) });
          }
          await completion.finished(ref.path);
        } catch (error) {
          fail(error);
        }
      },
      stop.signal,
      FILES_BEHIND,
    );
  } finally {
    localAhead?.stop();
    ticker.stop();
    request.signal?.removeEventListener('abort', interrupt);
    await committer.flush().catch(fail);
    await pool?.close();
    // A connection the lister opened again is closed here; the first one by runPull.
    lister.close();
  }
  try {
    if (request.delete && !stop.signal.aborted && ctx.deletions.length > 0) {
      await deleteStale(input, localDirs, tally, ctx.deletions, request.delete).catch(fail);
    }
    return await finish(input, tally, outcomes, fatal && isDiskFull(fatal.errno) ? await withSpaceNeeded(fatal, destination, tally) : fatal);
  } finally {
    // Last: a full disk is measured as the run found it, its inodes included.
    partialNames.removeEmpty();
  }
}

/**
 * --delete, once the walk is through: what it planned is weighed against --max-delete and the
 * mass guard as a whole, then removed, or none of it is (exit 25).
 */
async function deleteStale(
  input: WalkInput,
  localDirs: LocalDirs,
  tally: Tally,
  planned: readonly PlannedDeletion[],
  limits: { readonly maxDelete?: number; readonly allowMass: boolean },
): Promise<void> {
  const { destination, store, runId } = input;
  const files = await filesTakenBy(destination, planned);
  const refusal = deleteRefusal(files, { ...limits, knownFiles: store.countFiles() });
  if (refusal) {
    tally.deleteRefused = refusal;
    return;
  }
  await deleteEntries(destination, localDirs, planned);
  store.recordDeletions(runId, planned, files);
  tally.deleted = planned.map((d) => d.path);
  tally.filesDeleted = files;
}

/** Records how the run ended, tidies up after a whole walk, and returns the summary or throws why it stopped. */
async function finish(
  input: WalkInput,
  tally: Tally,
  outcomes: ReadonlyArray<{ path: string; outcome: DirOutcome }>,
  stopped: GsyncError | undefined,
): Promise<RunSummary> {
  const { store, runId, destination, request, sink } = input;
  const reason: unknown = request.signal?.aborted ? request.signal.reason : undefined;
  const interrupted = !stopped && request.signal?.aborted === true && !isGsyncError(reason);
  let fatal = stopped ?? (isGsyncError(reason) ? reason : undefined);
  // A run-ending failure outranks the problems' 12 (listed first: the first of equal rank wins).
  const exitCode = worstExitCode([
    ...(fatal ? [fatal.exitCode] : []),
    ...(interrupted ? [ExitCode.interrupted] : []),
    tally.problemsExitCode(),
    ...(tally.deleteRefused ? [ExitCode.deleteGuard] : []),
  ]);
  const summary = tally.summary(runId, Date.now() - input.started, exitCode, input.meter.wire());
  // The room held since the start: with the disk full, the state file needs it to record the end.
  await input.reserve.release().catch(() => undefined);
  try {
    store.recordDirOutcomes(outcomes, runId);
    store.finishRun(summary, Date.now(), fatal?.message ?? (interrupted ? 'interrupted' : tally.deleteRefused));
    if (!fatal && !interrupted) store.forgetDirsNotSeenBy(runId);
  } catch (error) {
    // The state file could not record the end (a full disk): what it holds stays consistent.
    fatal ??= classify(error);
  }
  if (fatal) throw fatal;
  // A clean run walked every directory: a partial it did not use belongs to a file that is gone or already in place.
  if (exitCode === ExitCode.ok) await sweepStalePartials(destination, store, runId);
  if (interrupted) {
    throw new GsyncError('interrupted', 'interrupted: finished files are in place and recorded', { hint: 'run the same command again to continue' });
  }
  sink.emit({ type: 'done', summary });
  return summary;
}

/** A full disk, with how much room there is and how much the directories listed so far still needed. */
async function withSpaceNeeded(error: GsyncError, destination: Destination, tally: Tally): Promise<GsyncError> {
  const space = await statfs(destination.root).catch(() => undefined);
  const free = space ? formatBytes(space.bavail * space.bsize) : 'unknown';
  const options = { ...(error.errno === undefined ? {} : { errno: error.errno }), cause: error };
  // Out of inodes, not bytes (many small files): "N MiB free" alone would be a riddle. A file
  // system that counts no inodes (btrfs) says files = 0.
  if (space && space.files > 0 && space.ffree === 0) {
    return new GsyncError('local-io', `${error.message}; the file system of ${destination.root} has no inodes left (${free} free, but no room for one more file)`, {
      ...options,
      hint: 'delete some files on that file system (or choose a destination with more inodes) and run the same command again: finished files and partials are kept',
    });
  }
  const needed = Math.max(0, tally.bytesPlanned - tally.bytesTransferred);
  return new GsyncError('local-io', `${error.message}; ${free} free in ${destination.root}, this run needs at least ${formatBytes(needed)} more`, {
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    ...options,
  });
}

function stateFileOf(destination: Destination): string {
  return join(destination.stateDir, 'state.db');
}

/**
 * No state file where the copy of a tree would go, before the root is even STATed: a guess (a
 * single file's copy goes elsewhere), for what is worth starting early and harmless if wrong.
 */
function looksLikeFirstPull(request: PullRequest, typedPath: string): boolean {
  return !existsSync(stateFileOf(new Destination(resolve(request.localDir ?? defaultLocalName(typedPath) ?? '.'))));
}

function openState(destination: Destination): StateStore {
  return StateStore.open(stateFileOf(destination));
}

/** Where the pull lands: local-dir if given; else ./<basename> for a tree, . for a single file. */
function localDirFor(root: RemoteRoot, typedPath: string, localDir: string | undefined): string {
  if (localDir !== undefined) return localDir;
  if (root.kind === 'file') return resolve('.');
  const name = defaultLocalName(typedPath);
  if (!name) {
    throw new GsyncError('usage', `the remote path ${JSON.stringify(typedPath || '~')} has no name to use for the local directory`, {
      hint: 'give the local directory explicitly: gsync pull <alias>:<remote-path> <local-dir>',
    });
  }
  return resolve(name);
}
