import { chmod, lstat, mkdir, readdir, readFile, rm, symlink as makeSymlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { e2eSuite } from '../support/e2eSuite.js';
import { runGsync, type GsyncResult } from '../support/runGsync.js';
import { dir, file, readTree, symlink } from '../support/trees.js';

/**
 * Issue 9, mirror semantics: --delete removes exactly what the remote lost, only where the
 * remote listing was whole, within --max-delete and the mass-delete guard; filters, sizes and
 * age choose what is taken (and what is never deleted).
 */

const e2e = e2eSuite({ prefix: 'gsync-e2e-mirror-' });

const tree = {
  'keep.txt': file('keep\n'),
  'gone.txt': file('gone\n'),
  'gone-link': symlink('keep.txt'),
  'gone-dir': dir({ 'a.txt': file('a\n'), deeper: dir({ 'b.txt': file('b\n') }) }),
  sub: dir({ 'stay.txt': file('stay\n'), 'also-gone.txt': file('also gone\n') }),
  locked: dir({ 'x.txt': file('x\n'), 'lost.txt': file('lost remotely\n') }),
  more: dir(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`m${i}.txt`, file(`m${i}\n`)]))),
};

async function mirrored(): Promise<{ remote: string; local: string }> {
  const remote = await e2e.remoteTree('mirror', tree);
  const local = join(await e2e.tempDir(), 'mirror');
  const first = await pull(remote, local);
  expect(first.code, first.stderr).toBe(0);
  return { remote, local };
}

function pull(remote: string, local: string, ...flags: string[]): Promise<GsyncResult> {
  return runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local, ...flags], { env: e2e.sshd.env });
}

async function removeRemote(remote: string, ...paths: string[]): Promise<void> {
  for (const path of paths) await rm(join(remote, path), { recursive: true });
}

const paths = async (root: string): Promise<string[]> => [...(await readTree(root)).keys()];

describe('--delete', () => {
  it('removes exactly the entries the remote lost (a file, a symlink, a directory with all under it), lists them, and the state file forgets them', async () => {
    const { remote, local } = await mirrored();
    await removeRemote(remote, 'gone.txt', 'gone-link', 'gone-dir', 'sub/also-gone.txt');

    const result = await pull(remote, local, '--delete');

    expect(result.code, result.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
    expect(result.stdout).toMatch(/, 5 deleted in /);
    for (const path of ['gone.txt', 'gone-link', 'gone-dir', 'sub/also-gone.txt']) expect(result.stdout).toContain(`  deleted: ${path}\n`);
    const db = new Database(join(local, '.gsync', 'state.db'), { readonly: true });
    try {
      const known = db.prepare("SELECT path FROM manifest WHERE path LIKE 'gone%' OR path = 'sub/also-gone.txt'").all();
      expect(known).toEqual([]);
      const recorded = db.prepare('SELECT path, kind FROM deletions ORDER BY path').all();
      expect(recorded).toEqual([
        { path: 'gone-dir', kind: 'dir' },
        { path: 'gone-link', kind: 'symlink' },
        { path: 'gone.txt', kind: 'file' },
        { path: 'sub/also-gone.txt', kind: 'file' },
      ]);
    } finally {
      db.close();
    }
  });

  it('deletes nothing under a remote directory it could not list (exit 23), and still deletes elsewhere', async () => {
    const { remote, local } = await mirrored();
    await removeRemote(remote, 'locked/lost.txt', 'gone.txt');
    await chmod(join(remote, 'locked'), 0o000);
    try {
      const result = await pull(remote, local, '--delete');
      expect(result.code, result.stderr).toBe(23);
      expect(await readdir(join(local, 'locked'))).toEqual(['lost.txt', 'x.txt']);
      expect(await paths(local)).not.toContain('gone.txt');
    } finally {
      await chmod(join(remote, 'locked'), 0o755);
    }
  });

  it('without --delete, nothing local is removed', async () => {
    const { remote, local } = await mirrored();
    await removeRemote(remote, 'gone.txt', 'gone-dir');
    const result = await pull(remote, local);
    expect(result.code, result.stderr).toBe(0);
    expect(await paths(local)).toEqual(expect.arrayContaining(['gone.txt', 'gone-dir/a.txt', 'gone-dir/deeper/b.txt']));
  });

  it('--max-delete refuses a run that would remove more files (exit 25) and removes none', async () => {
    const { remote, local } = await mirrored();
    await removeRemote(remote, 'gone.txt', 'gone-dir');
    const before = await paths(local);

    // gone.txt, gone-dir/a.txt and gone-dir/deeper/b.txt: 3 files.
    const refused = await pull(remote, local, '--delete', '--max-delete', '2');
    expect(refused.code, refused.stderr).toBe(25);
    expect(refused.stderr).toMatch(/--delete would remove 3 files, more than --max-delete 2: nothing was deleted/);
    expect(await paths(local)).toEqual(before);

    const allowed = await pull(remote, local, '--delete', '--max-delete', '3');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
  });

  it('halts when the remote root lists empty (every file gone), deleting nothing, unless --allow-mass-delete', async () => {
    const { remote, local } = await mirrored();
    const before = await paths(local);
    for (const name of await readdir(remote)) await rm(join(remote, name), { recursive: true });

    const halted = await pull(remote, local, '--delete');
    expect(halted.code, halted.stderr).toBe(25);
    expect(halted.stderr).toMatch(/--delete would remove \d+ files, against \d+ this mirror records: nothing was deleted\..*--allow-mass-delete/);
    expect(await paths(local)).toEqual(before);

    const allowed = await pull(remote, local, '--delete', '--allow-mass-delete');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(await readdir(local)).toEqual(['.gsync']);
  });

  it('removes a symlink, or a directory holding one, without following it', async () => {
    const { remote, local } = await mirrored();
    const outside = join(await e2e.tempDir(), 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'precious.txt'), 'not the mirror\n');
    await makeSymlink(outside, join(local, 'sub', 'to-outside'));
    await mkdir(join(local, 'stale'));
    await makeSymlink(outside, join(local, 'stale', 'inner-link'));

    const result = await pull(remote, local, '--delete');

    expect(result.code, result.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
    expect(await readdir(outside)).toEqual(['precious.txt']);
  });

  it('never deletes what a filter excludes, and never .gsync', async () => {
    const { remote, local } = await mirrored();
    await removeRemote(remote, 'gone.txt', 'sub/also-gone.txt');
    const result = await pull(remote, local, '--delete', '--exclude', 'gone.txt');
    expect(result.code, result.stderr).toBe(0);
    const now = await paths(local);
    expect(now).toContain('gone.txt');
    expect(now).not.toContain('sub/also-gone.txt');
    expect(await readdir(join(local, '.gsync'))).toContain('state.db');
  });
});

describe('filters, sizes and age', () => {
  it('--exclude and --include choose what is taken; an excluded directory is not even listed', async () => {
    const remote = await e2e.remoteTree('filters', {
      'model.pt': file('weights\n'),
      'scratch.tmp': file('temp\n'),
      logs: dir({ 'run.log': file('log\n'), 'debug.tmp': file('debug\n'), 'keep.tmp': file('kept by --include\n') }),
      cache: dir({ 'blob.bin': file('cached\n') }),
    });
    // If cache/ were listed, its mode 000 would make the run fail with permission-denied (exit 23).
    await chmod(join(remote, 'cache'), 0o000);
    const local = join(await e2e.tempDir(), 'mirror');
    try {
      const result = await pull(remote, local, '--include', 'keep.tmp', '--exclude', '*.tmp', '--exclude', '/cache/');
      expect(result.code, result.stderr).toBe(0);
      expect(await paths(local)).toEqual(['logs', 'logs/keep.tmp', 'logs/run.log', 'model.pt']);
    } finally {
      await chmod(join(remote, 'cache'), 0o755);
    }
  });

  it('--exclude-from reads patterns from a file', async () => {
    const remote = await e2e.remoteTree('exclude-from', { 'a.txt': file('a\n'), 'b.log': file('b\n'), sub: dir({ 'c.log': file('c\n') }) });
    const rules = join(await e2e.tempDir(), 'rules');
    await writeFile(rules, '# logs stay on the box\n*.log\n\n; comment\n');
    const local = join(await e2e.tempDir(), 'mirror');
    const result = await pull(remote, local, '--exclude-from', rules);
    expect(result.code, result.stderr).toBe(0);
    expect(await paths(local)).toEqual(['a.txt', 'sub']);
  });

  it('--min-size and --max-size leave files out; --min-age leaves a file still being written for the next run', async () => {
    const long = { mtime: 1_700_000_000 };
    const remote = await e2e.remoteTree('sizes', { 'tiny.txt': file(10, long), 'mid.bin': file(5000, long), 'big.bin': file(100_000, long), 'old.txt': file('old\n', long) });
    const fresh = join(remote, 'fresh.ckpt');
    await writeFile(fresh, 'still being written\n');
    const now = Date.now() / 1000;
    await utimes(fresh, now, now);
    const local = join(await e2e.tempDir(), 'mirror');

    const sized = await pull(remote, local, '--min-size', '1K', '--max-size', '50K');
    expect(sized.code, sized.stderr).toBe(0);
    expect(await paths(local)).toEqual(['mid.bin']);

    const aged = await pull(remote, local, '--min-age', '1h');
    expect(aged.code, aged.stderr).toBe(0);
    expect(await paths(local)).toEqual(['big.bin', 'mid.bin', 'old.txt', 'tiny.txt']);

    const later = await pull(remote, local);
    expect(later.code, later.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
  });

  it('a bad pattern or size is a usage error (exit 1) naming it', async () => {
    const local = join(await e2e.tempDir(), 'mirror');
    const pattern = await runGsync(['pull', `${e2e.sshd.alias}:/nowhere`, local, '--exclude', '*.[ch'], { env: e2e.sshd.env });
    expect(pattern.code).toBe(1);
    expect(pattern.stderr).toMatch(/\*\.\[ch/);
    const size = await runGsync(['pull', `${e2e.sshd.alias}:/nowhere`, local, '--max-size', 'lots'], { env: e2e.sshd.env });
    expect(size.code).toBe(1);
    expect(size.stderr).toMatch(/--max-size lots: not a size/);
  });
});

/** Every path under `root` with its kind, size and mtime: what "untouched" is checked against. */
async function snapshot(root: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (path: string): Promise<void> => {
    for (const name of (await readdir(path)).sort()) {
      const full = join(path, name);
      const stats = await lstat(full);
      lines.push(`${full} ${stats.mode.toString(8)} ${stats.size} ${stats.mtimeMs}`);
      if (stats.isDirectory()) await walk(full);
    }
  };
  await walk(root);
  return lines;
}

describe('--dry-run', () => {
  it('on an empty destination itemizes what would come and creates nothing, not even the destination', async () => {
    const remote = await e2e.remoteTree('dry', tree);
    const parent = await e2e.tempDir();
    const local = join(parent, 'mirror');
    const before = await snapshot(parent);

    const result = await pull(remote, local, '--dry-run');

    expect(result.code, result.stderr).toBe(0);
    expect(await snapshot(parent)).toEqual(before);
    expect(result.stdout).toMatch(/^new +keep\.txt \(5 B\)$/m);
    expect(result.stdout).toMatch(/^mkdir +gone-dir\/$/m);
    expect(result.stdout).toMatch(/^new +gone-dir\/deeper\/b\.txt \(2 B\)$/m);
    expect(result.stdout).toMatch(/^symlink +gone-link -> keep\.txt$/m);
    expect(result.stdout).toMatch(/^dry run: 20 files to transfer \(\d+ B\), 0 up to date; nothing was changed$/m);
  });

  it('with --delete on a mirror lists changes and deletions, and changes nothing, the state file included', async () => {
    const { remote, local } = await mirrored();
    await removeRemote(remote, 'gone.txt', 'gone-dir');
    await writeFile(join(remote, 'keep.txt'), 'keep, edited\n');
    const before = await snapshot(local);
    const stateBefore = await readFile(join(local, '.gsync', 'state.db'));

    const result = await pull(remote, local, '--dry-run', '--delete');

    expect(result.code, result.stderr).toBe(0);
    expect(await snapshot(local)).toEqual(before);
    expect((await readFile(join(local, '.gsync', 'state.db'))).equals(stateBefore)).toBe(true);
    expect(result.stdout).toMatch(/^changed +keep\.txt \(13 B\)$/m);
    expect(result.stdout).toMatch(/^delete +gone\.txt$/m);
    expect(result.stdout).toMatch(/^delete +gone-dir\/$/m);
    expect(result.stdout).toMatch(/^dry run: 1 file to transfer \(13 B\), \d+ up to date, 3 to delete; nothing was changed$/m);
  });

  it('says when the mass-delete guard would halt the run (exit 25)', async () => {
    const { remote, local } = await mirrored();
    for (const name of await readdir(remote)) await rm(join(remote, name), { recursive: true });
    const result = await pull(remote, local, '--dry-run', '--delete');
    expect(result.code, result.stderr).toBe(25);
    expect(result.stderr).toMatch(/--allow-mass-delete/);
    expect(await paths(local)).toContain('keep.txt');
  });

  it('over an empty state file (a first run that stopped before recording anything) plans as for a first pull', async () => {
    const remote = await e2e.remoteTree('dry-empty-state', tree);
    const local = join(await e2e.tempDir(), 'mirror');
    await mkdir(join(local, '.gsync'), { recursive: true });
    await writeFile(join(local, '.gsync', 'state.db'), '');
    const result = await pull(remote, local, '--dry-run');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^dry run: 20 files to transfer \(\d+ B\), 0 up to date; nothing was changed$/m);
    const status = await runGsync(['status', local], { env: e2e.sshd.env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toBe('no runs recorded yet\n');
  });

  it('into a destination that is a file ends as the real run would: exit 3, nothing planned', async () => {
    const remote = await e2e.remoteTree('dry-into-file', tree);
    const local = join(await e2e.tempDir(), 'a-file');
    await writeFile(local, 'not a directory\n');
    for (const flags of [['--dry-run'], []]) {
      const result = await pull(remote, local, ...flags);
      expect(result.code, `${flags.join(' ')}: ${result.stderr}`).toBe(3);
      expect(result.stderr).toMatch(/^gsync: local destination \S+ exists and is not a directory$/m);
      expect(result.stdout).not.toMatch(/^new /m);
    }
    expect(await readFile(local, 'utf8')).toBe('not a directory\n');
  });
});
