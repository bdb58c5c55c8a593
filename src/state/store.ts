import Database from 'better-sqlite3';
import type { PartialRecord } from '../core/blocks.js';
import type { DirOutcome, EntryKind, ManifestRow, Problem, RunSummary } from '../core/types.js';
import { parentOf } from '../core/names.js';
import { localIoError } from '../errors/classify.js';
import { GsyncError } from '../errors/GsyncError.js';
import { migrations } from './schema.js';

/** One past run, as `gsync status` shows it. */
export interface RunRecord {
  readonly id: number;
  readonly source: string;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly exitCode: number | null;
  readonly filesTransferred: number;
  readonly bytesTransferred: number;
  readonly filesSkipped: number;
  readonly bytesSkipped: number;
  readonly message: string | null;
  readonly problems: readonly Problem[];
}

/** A directory whose last walk did not end complete. */
export interface DirRecord {
  readonly path: string;
  readonly outcome: Exclude<DirOutcome, 'complete'>;
  readonly runId: number;
}

interface PartialDbRow {
  path: string;
  name: string;
  size: number;
  mtime: number;
  block_size: number;
}

/** A manifest row as the state file returns it: path, kind, size, mtime, mode, link_target. */
type ManifestTuple = [string, EntryKind, number, number, number, string | null];

/**
 * The state file: the single source of truth for what gsync has put in place. WAL with
 * synchronous=NORMAL survives kill -9; writes come in batches because one row per transaction is
 * ten times slower. Only the main thread opens it for writing.
 */
export class StateStore {
  private readonly db: Database.Database;
  private readonly selectDir: Database.Statement<[string], ManifestTuple>;
  private readonly upsert: Database.Statement<[string, string, string, number, number, number, string | null, number]>;
  private readonly insertProblem: Database.Statement;
  /**
   * Prepared once, on first use (preparing it per call cost 20,000 files ~0.15 s); not before, as
   * a state file from before partials existed, opened read-only, has no such table.
   */
  #selectPartial: Database.Statement<[string], PartialDbRow> | undefined;
  #selectDirAttrs: Database.Statement<[string], { mtime: number; mode: number }> | undefined;
  readonly #file: string;

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.#file = file;
    this.selectDir = db.prepare<[string], ManifestTuple>('SELECT path, kind, size, mtime, mode, link_target FROM manifest WHERE dir = ?').raw(true);
    this.upsert = db.prepare(
      `INSERT INTO manifest (path, dir, kind, size, mtime, mode, link_target, run_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, size = excluded.size, mtime = excluded.mtime,
         mode = excluded.mode, link_target = excluded.link_target, run_id = excluded.run_id`,
    );
    this.insertProblem = db.prepare(
      'INSERT INTO problems (run_id, path, stage, code, message) VALUES (?, ?, ?, ?, ?)',
    );
  }

  static open(file: string, options: { readonly?: boolean } = {}): StateStore {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
      refuseNewer(db, file);
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        migrate(db);
      }
      db.pragma('busy_timeout = 2000');
      return new StateStore(db, file);
    } catch (error) {
      db?.close();
      if (error instanceof GsyncError) throw error;
      throw openFailure(file, error);
    }
  }

  startRun(source: string, startedAt: number): number {
    const result = this.#write(() => this.db.prepare('INSERT INTO runs (source, started_at) VALUES (?, ?)').run(source, startedAt));
    return Number(result.lastInsertRowid);
  }

  finishRun(summary: RunSummary, finishedAt: number, message?: string): void {
    const finish = this.db.prepare(
      `UPDATE runs SET finished_at = ?, exit_code = ?, files_transferred = ?, bytes_transferred = ?,
         files_skipped = ?, bytes_skipped = ?, message = ? WHERE id = ?`,
    );
    this.#write(() => {
      finish.run(
        finishedAt,
        summary.exitCode,
        summary.filesTransferred,
        summary.bytesTransferred,
        summary.filesSkipped,
        summary.bytesSkipped,
        message ?? null,
        summary.runId,
      );
      for (const p of summary.problems) this.insertProblem.run(summary.runId, p.path, p.stage, p.code, p.message);
    });
  }

  /** What the state file knows of the entries directly inside `dir`. */
  manifestIn(dir: string): ManifestRow[] {
    // A no-op run reads every row of the state file: as arrays, made objects here, 20,000 rows
    // took 38 ms, against 64 ms as objects made by the driver. kind is only ever written from an EntryKind.
    return this.selectDir.all(dir).map(([path, kind, size, mtime, mode, linkTarget]) => ({ path, kind, size, mtime, mode, linkTarget }));
  }

  /** Records entries now in place, in one transaction. */
  recordEntries(rows: readonly ManifestRow[], runId: number): void {
    if (rows.length === 0) return;
    // Positional parameters: named ones, from an object per row, cost 20,000 rows twice the time.
    this.#write(() => {
      for (const row of rows) this.upsert.run(row.path, parentOf(row.path), row.kind, row.size, row.mtime, row.mode, row.linkTarget ?? null, runId);
    });
  }

  /**
   * Records a finished directory's attributes, unless the state file already has them: a re-run
   * finds most as it left them, and one read costs a small part of a transaction.
   */
  recordDir(path: string, attrs: { readonly mtime: number; readonly mode: number }, runId: number): void {
    this.#selectDirAttrs ??= this.db.prepare<[string], { mtime: number; mode: number }>("SELECT mtime, mode FROM manifest WHERE path = ? AND kind = 'dir'");
    const known = this.#selectDirAttrs.get(path);
    if (known?.mtime === attrs.mtime && known.mode === attrs.mode) return;
    this.recordEntries([{ path, kind: 'dir', size: 0, mtime: attrs.mtime, mode: attrs.mode, linkTarget: null }], runId);
  }

  /** The partial file begun for `path`, with the blocks recorded done. */
  partialFor(path: string): PartialRecord | undefined {
    this.#selectPartial ??= this.db.prepare('SELECT path, name, size, mtime, block_size FROM partials WHERE path = ?');
    const row = this.#selectPartial.get(path);
    if (!row) return undefined;
    const blocks = this.db.prepare('SELECT idx, hash FROM blocks WHERE path = ?').all(path) as Array<{ idx: number; hash: string }>;
    return { path: row.path, name: row.name, size: row.size, mtime: row.mtime, blockSize: row.block_size, blocks: new Map(blocks.map((b) => [b.idx, b.hash])) };
  }

  /** Starts a partial from scratch (any earlier one for the path and its blocks are forgotten). */
  beginPartial(partial: Omit<PartialRecord, 'blocks'>, runId: number): void {
    this.#write(() => {
      this.dropPartialRows(partial.path);
      this.db
        .prepare('INSERT INTO partials (path, name, size, mtime, block_size, run_id) VALUES (?, ?, ?, ?, ?, ?)')
        .run(partial.path, partial.name, partial.size, partial.mtime, partial.blockSize, runId);
    });
  }

  /** Marks a partial as used by this run, so the end-of-run sweep keeps it. */
  touchPartial(path: string, runId: number): void {
    this.#write(() => this.db.prepare('UPDATE partials SET run_id = ? WHERE path = ?').run(runId, path));
  }

  /** Records blocks whose bytes are durable in the partial file, in one transaction. */
  recordBlocks(path: string, blocks: ReadonlyArray<{ readonly index: number; readonly hash: string }>): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO blocks (path, idx, hash) VALUES (?, ?, ?)');
    this.#write(() => {
      for (const block of blocks) insert.run(path, block.index, block.hash);
    });
  }

  dropPartial(path: string): void {
    this.#write(() => this.dropPartialRows(path));
  }

  /** Every partial with how many blocks are done, for `gsync status` and the sweeps. */
  partials(): Array<{ path: string; name: string; size: number; blockSize: number; blocksDone: number; runId: number }> {
    // A state file from before partials existed, opened read-only by `gsync status`, has no such table.
    if (!this.hasTable('partials')) return [];
    return this.db
      .prepare(
        `SELECT p.path, p.name, p.size, p.block_size AS blockSize, p.run_id AS runId,
           (SELECT count(*) FROM blocks b WHERE b.path = p.path) AS blocksDone
         FROM partials p ORDER BY p.path`,
      )
      .all() as Array<{ path: string; name: string; size: number; blockSize: number; blocksDone: number; runId: number }>;
  }

  /** How this run's walk of some directories ended, in one transaction. */
  recordDirOutcomes(outcomes: ReadonlyArray<{ readonly path: string; readonly outcome: DirOutcome }>, runId: number): void {
    const upsert = this.db.prepare(
      'INSERT INTO dirs (path, outcome, run_id) VALUES (?, ?, ?) ON CONFLICT (path) DO UPDATE SET outcome = excluded.outcome, run_id = excluded.run_id',
    );
    this.#write(() => {
      for (const { path, outcome } of outcomes) upsert.run(path, outcome, runId);
    });
  }

  /** Whether the state file records any file or symlink: not, on a first pull. One row read, however large the mirror. */
  knowsAnyFile(): boolean {
    return this.db.prepare("SELECT 1 FROM manifest WHERE kind != 'dir' LIMIT 1").get() !== undefined;
  }

  /** Whether the state file records more than `n` entries: counted no further than that. */
  holdsMoreThan(n: number): boolean {
    return this.db.prepare('SELECT 1 FROM manifest LIMIT 1 OFFSET ?').get(n) !== undefined;
  }

  /** Files and symlinks the state file records in the mirror: what the mass-delete guard weighs. */
  countFiles(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM manifest WHERE kind != 'dir'").get() as { n: number }).n;
  }

  /** Records what --delete removed, and forgets each entry with everything under it, in one transaction. */
  recordDeletions(runId: number, deleted: ReadonlyArray<{ path: string; kind: EntryKind }>, files: number): void {
    if (deleted.length === 0) return;
    const insert = this.db.prepare('INSERT INTO deletions (run_id, path, kind) VALUES (?, ?, ?)');
    // Everything under `path`: names from path + '/' up to path + '0' ('0' sorts right after '/').
    const forgetEntries = this.db.prepare("DELETE FROM manifest WHERE path = ? OR (path >= ? || '/' AND path < ? || '0')");
    const forgetDirs = this.db.prepare("DELETE FROM dirs WHERE path = ? OR (path >= ? || '/' AND path < ? || '0')");
    this.#write(() => {
      for (const { path, kind } of deleted) {
        insert.run(runId, path, kind);
        forgetEntries.run(path, path, path);
        forgetDirs.run(path, path, path);
      }
      this.db.prepare('UPDATE runs SET files_deleted = ? WHERE id = ?').run(files, runId);
    });
  }

  /** Forgets directories a run that walked the whole tree did not see: they are gone, or under one it could not list. */
  forgetDirsNotSeenBy(runId: number): void {
    this.#write(() => this.db.prepare('DELETE FROM dirs WHERE run_id < ?').run(runId));
  }

  /** Directories whose last walk was not complete, for `gsync status`. */
  unfinishedDirs(): DirRecord[] {
    // A state file from before directory outcomes existed, opened read-only by `gsync status`, has no such table.
    if (!this.hasTable('dirs')) return [];
    return this.db
      .prepare("SELECT path, outcome, run_id AS runId FROM dirs WHERE outcome != 'complete' ORDER BY path")
      .all() as DirRecord[];
  }

  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  private dropPartialRows(path: string): void {
    this.db.prepare('DELETE FROM blocks WHERE path = ?').run(path);
    this.db.prepare('DELETE FROM partials WHERE path = ?').run(path);
  }

  lastRuns(limit: number): RunRecord[] {
    const runs = this.db
      .prepare('SELECT * FROM runs ORDER BY id DESC LIMIT ?')
      .all(limit) as Array<Record<string, number | string | null>>;
    const problemsOf = this.db.prepare('SELECT path, stage, code, message FROM problems WHERE run_id = ? ORDER BY rowid');
    return runs.map((r) => ({
      id: r.id as number,
      source: r.source as string,
      startedAt: r.started_at as number,
      finishedAt: r.finished_at as number | null,
      exitCode: r.exit_code as number | null,
      filesTransferred: r.files_transferred as number,
      bytesTransferred: r.bytes_transferred as number,
      filesSkipped: r.files_skipped as number,
      bytesSkipped: r.bytes_skipped as number,
      message: r.message as string | null,
      problems: problemsOf.all(r.id) as Problem[],
    }));
  }

  /**
   * A writer leaves the file in rollback-journal mode: WAL is for the run, and a WAL file cannot
   * be opened at all where its -shm cannot be created (a destination mounted read-only later, a
   * backup). A reader that still has it open keeps it in WAL; the next close tries again.
   */
  /**
   * Every write, in one transaction. A failure names the state file: on a full disk it can be
   * what fills up first, before any file being pulled.
   */
  #write<T>(change: () => T): T {
    try {
      return this.db.transaction(change)();
    } catch (error) {
      throw localIoError(error, `cannot write the state file ${this.#file}`);
    }
  }

  close(): void {
    if (!this.db.readonly) {
      try {
        this.db.pragma('journal_mode = DELETE');
      } catch {
        // Busy (a `gsync status` reading) or the disk is full: WAL stays, which is just as safe.
      }
    }
    this.db.close();
  }
}

/** A state file a newer gsync wrote may hold what this one would misread or undo: not touched. */
function refuseNewer(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version <= migrations.length) return;
  throw new GsyncError('local-path', `the state file ${file} was written by a newer gsync (its format ${version}; this gsync knows up to ${migrations.length})`, {
    hint: 'use that newer gsync here, or pull into another directory',
  });
}

function migrate(db: Database.Database): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  for (let version = applied; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] ?? '');
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/**
 * A state file that cannot be opened, as the user sees it. A damaged one (not SQLite, or torn by
 * something other than a crash, which WAL survives) is no disk fault: moved away, the next pull
 * keeps every file in place that matches the server's.
 */
function openFailure(file: string, error: unknown): GsyncError {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new GsyncError('local-io', `the state file ${file} is damaged (${code})`, {
      errno: code,
      cause: error,
      hint: 'move it away and pull again: the files already in place that match the server\'s are kept, not fetched again',
    });
  }
  // SQLite's Unix VFS takes paths of at most 512 bytes: a deep destination is no disk fault.
  if (code === 'SQLITE_CANTOPEN' && Buffer.byteLength(file) > SQLITE_MAX_PATH) {
    return new GsyncError('local-path', `the state file's path is ${Buffer.byteLength(file)} bytes long, and SQLite opens paths of at most ${SQLITE_MAX_PATH}: ${file}`, {
      cause: error,
      hint: 'pull into a directory with a shorter path',
    });
  }
  return localIoError(error, `cannot open the state file ${file}`);
}

const SQLITE_MAX_PATH = 512;
