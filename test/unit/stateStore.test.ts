import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BLOCK_SIZE } from '../../src/core/blocks.js';
import { GsyncError } from '../../src/errors/GsyncError.js';
import { StateStore } from '../../src/state/store.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gsync-state-'));
  file = join(dir, 'state.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('StateStore: partials and their blocks', () => {
  it('keeps a partial with its remote size and mtime and the blocks recorded, and forgets both together', () => {
    const store = StateStore.open(file);
    store.beginPartial({ path: 'ckpt/a.bin', name: 'b-1', size: 10 * BLOCK_SIZE, mtime: 7, blockSize: BLOCK_SIZE }, 1);
    store.recordBlocks('ckpt/a.bin', [
      { index: 0, hash: '00000000000000aa' },
      { index: 3, hash: '00000000000000bb' },
    ]);
    store.recordBlocks('ckpt/a.bin', [{ index: 3, hash: '00000000000000cc' }]);
    expect(store.partialFor('ckpt/a.bin')).toStrictEqual({
      path: 'ckpt/a.bin',
      name: 'b-1',
      size: 10 * BLOCK_SIZE,
      mtime: 7,
      blockSize: BLOCK_SIZE,
      blocks: new Map([
        [0, '00000000000000aa'],
        [3, '00000000000000cc'],
      ]),
    });
    expect(store.partials()).toStrictEqual([{ path: 'ckpt/a.bin', name: 'b-1', size: 10 * BLOCK_SIZE, blockSize: BLOCK_SIZE, blocksDone: 2, runId: 1 }]);
    store.touchPartial('ckpt/a.bin', 2);
    expect(store.partials()[0]?.runId).toBe(2);

    // Beginning again forgets the old blocks.
    store.beginPartial({ path: 'ckpt/a.bin', name: 'b-2', size: 5, mtime: 8, blockSize: BLOCK_SIZE }, 3);
    expect(store.partialFor('ckpt/a.bin')?.blocks.size).toBe(0);
    store.dropPartial('ckpt/a.bin');
    expect(store.partialFor('ckpt/a.bin')).toBeUndefined();
    expect(store.partials()).toStrictEqual([]);
    store.close();
  });

  it('a state file from before partials existed reads as having none', () => {
    StateStore.open(file).close();
    const db = new Database(file);
    db.exec('DROP TABLE blocks; DROP TABLE partials; PRAGMA user_version = 1;');
    db.close();
    const readOnly = StateStore.open(file, { readonly: true });
    expect(readOnly.partials()).toStrictEqual([]);
    readOnly.close();
  });
});

describe('StateStore: directory outcomes', () => {
  it('keeps the last outcome per directory and lists the unfinished ones', () => {
    const store = StateStore.open(file);
    store.recordDirOutcomes(
      [
        { path: '', outcome: 'complete' },
        { path: 'logs', outcome: 'incomplete' },
        { path: 'secret', outcome: 'unlisted' },
      ],
      1,
    );
    expect(store.unfinishedDirs()).toStrictEqual([
      { path: 'logs', outcome: 'incomplete', runId: 1 },
      { path: 'secret', outcome: 'unlisted', runId: 1 },
    ]);
    // A later run that finished `logs` replaces its outcome.
    store.recordDirOutcomes([{ path: 'logs', outcome: 'complete' }], 2);
    expect(store.unfinishedDirs()).toStrictEqual([{ path: 'secret', outcome: 'unlisted', runId: 1 }]);
    store.close();
  });

  it('forgets directories a whole walk did not see', () => {
    const store = StateStore.open(file);
    store.recordDirOutcomes([{ path: 'gone', outcome: 'incomplete' }], 1);
    store.recordDirOutcomes([{ path: 'kept', outcome: 'unlisted' }], 2);
    store.forgetDirsNotSeenBy(2);
    expect(store.unfinishedDirs().map((d) => d.path)).toStrictEqual(['kept']);
    store.close();
  });

  it('a state file from before directory outcomes existed reads as having none', () => {
    StateStore.open(file).close();
    const db = new Database(file);
    // As a version-2 file: without what migrations 3 and 4 add.
    db.exec('DROP TABLE dirs; DROP TABLE deletions; ALTER TABLE runs DROP COLUMN files_deleted; PRAGMA user_version = 2;');
    db.close();
    const readOnly = StateStore.open(file, { readonly: true });
    expect(readOnly.unfinishedDirs()).toStrictEqual([]);
    readOnly.close();
    // Opened for writing, it gains the table.
    const writable = StateStore.open(file);
    writable.recordDirOutcomes([{ path: 'a', outcome: 'unlisted' }], 3);
    expect(writable.unfinishedDirs()).toHaveLength(1);
    writable.close();
  });
});

describe('StateStore: directories', () => {
  /** The manifest row of `path` as stored: its attributes and the run that last wrote it. */
  function rowOf(path: string): unknown {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT kind, mtime, mode, run_id AS runId FROM manifest WHERE path = ?').get(path);
    } finally {
      db.close();
    }
  }

  it('records a finished directory, writes it again only when its attributes changed, and a file of that name is replaced', () => {
    const store = StateStore.open(file);
    store.recordDir('logs', { mtime: 100, mode: 0o755 }, 1);
    expect(rowOf('logs')).toStrictEqual({ kind: 'dir', mtime: 100, mode: 0o755, runId: 1 });
    store.recordDir('logs', { mtime: 100, mode: 0o755 }, 2);
    expect(rowOf('logs')).toStrictEqual({ kind: 'dir', mtime: 100, mode: 0o755, runId: 1 });
    store.recordDir('logs', { mtime: 200, mode: 0o755 }, 3);
    expect(rowOf('logs')).toStrictEqual({ kind: 'dir', mtime: 200, mode: 0o755, runId: 3 });
    store.recordDir('logs', { mtime: 200, mode: 0o700 }, 4);
    expect(rowOf('logs')).toStrictEqual({ kind: 'dir', mtime: 200, mode: 0o700, runId: 4 });
    store.recordEntries([{ path: 'ckpt', kind: 'file', size: 1, mtime: 5, mode: 0o644, linkTarget: null }], 4);
    store.recordDir('ckpt', { mtime: 5, mode: 0o644 }, 5);
    expect(rowOf('ckpt')).toStrictEqual({ kind: 'dir', mtime: 5, mode: 0o644, runId: 5 });
    store.close();
  });
});

describe('StateStore: a state file that cannot be used', () => {
  it('one that is not SQLite is said to be damaged, for writing and for reading, with what to do', () => {
    writeFileSync(file, 'not a database, but long enough to have a header of sorts: '.repeat(20));
    for (const readonly of [false, true]) {
      let thrown: unknown;
      try {
        StateStore.open(file, { readonly }).close();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(GsyncError);
      expect(thrown).toMatchObject({ kind: 'local-io', exitCode: 11, errno: 'SQLITE_NOTADB', message: `the state file ${file} is damaged (SQLITE_NOTADB)` });
      expect((thrown as GsyncError).hint).toMatch(/^move it away and pull again/);
    }
  });

  it('one a newer gsync wrote is left alone, for writing and for reading: exit 3, saying so', () => {
    StateStore.open(file).close();
    const newer = new Database(file);
    const known = newer.pragma('user_version', { simple: true }) as number;
    newer.pragma(`user_version = ${known + 1}`);
    newer.exec('CREATE TABLE from_the_future (x)');
    newer.close();
    for (const readonly of [false, true]) {
      expect(() => StateStore.open(file, { readonly })).toThrow(
        expect.objectContaining({ kind: 'local-path', exitCode: 3, message: `the state file ${file} was written by a newer gsync (its format ${known + 1}; this gsync knows up to ${known})` }),
      );
    }
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(known + 1);
    expect(after.pragma('journal_mode', { simple: true }), 'not even switched to WAL').toBe('delete');
    after.close();
  });

  it('one deeper than SQLite can open (a path past 512 bytes) is refused saying so: exit 3', () => {
    const deep = join(dir, 'd'.repeat(200), 'e'.repeat(200), 'f'.repeat(200));
    mkdirSync(deep, { recursive: true });
    const long = join(deep, 'state.db');
    expect(() => StateStore.open(long)).toThrow(
      expect.objectContaining({ kind: 'local-path', exitCode: 3, message: `the state file's path is ${Buffer.byteLength(long)} bytes long, and SQLite opens paths of at most 512: ${long}` }),
    );
  });

  it('one that cannot be opened at all (a directory stands there) is a local error naming it', () => {
    mkdirSync(file);
    expect(() => StateStore.open(file)).toThrow(expect.objectContaining({ kind: 'local-io', message: `cannot open the state file ${file}: SQLITE_CANTOPEN` }));
  });
});
