import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, chmod, mkdir, readdir, readFile, rename, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { e2eSuite } from '../support/e2eSuite.js';
import { runGsync, spawnGsync, type GsyncResult } from '../support/runGsync.js';
import { dir, file, pseudoRandomBytes, readTree, writeTree, type TreeEntry, type TreeSpec } from '../support/trees.js';

/**
 * Issue 7: one path's trouble stays that path's. Unreadable, vanished and changing files are
 * reported by path with their problem code while everything else arrives; a signal ends the run
 * cleanly and the next one resumes.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

const e2e = e2eSuite({ prefix: 'gsync-e2e-iso-', proxy: true });

async function localDir(): Promise<string> {
  return join(await e2e.tempDir(), 'mirror');
}

interface ProblemJson {
  path: string;
  stage: string;
  code: string;
  message: string;
}
interface StatusJson {
  runs: Array<{ id: number; exitCode: number | null; filesTransferred: number; bytesTransferred: number; filesSkipped: number; problems: ProblemJson[] }>;
  partials: Array<{ path: string; size: number; bytesDone: number; percent: number }>;
  dirs: Array<{ path: string; outcome: string; runId: number }>;
}

async function statusJson(local: string): Promise<StatusJson> {
  const result = await runGsync(['status', '--json', local], { env: e2e.sshd.env });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

/** A pull run in the background, its output collected, for tests that act on it mid-run. */
interface Running {
  readonly child: ChildProcess;
  readonly done: Promise<GsyncResult>;
}

function spawnPull(args: string[]): Running {
  const child = spawnGsync(['pull', ...args], { env: e2e.sshd.env });
  e2e.track(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<GsyncResult>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/**
 * Starts a pull through the proxy with every connection held after `bytes` server→client bytes,
 * and resolves once that much crossed it: the transfer is then stopped mid-file until the test
 * lets it go with `e2e.proxy.setMode({ kind: 'pass' })`.
 */
async function pullHeldAfter(bytes: number, args: string[]): Promise<Running> {
  e2e.proxy.setMode({ kind: 'stall-after', bytes });
  const before = e2e.proxy.bytesDown;
  const running = spawnPull(['--connections', '1', '--timeout', '10', ...args]);
  const reached = await Promise.race([
    e2e.proxy.waitForBytesDown(before + bytes).then(
      () => true,
      () => false,
    ),
    running.done.then(() => false),
  ]);
  if (!reached) {
    const result = await running.done;
    expect.fail(`the pull ended (exit ${result.code}) before ${bytes} bytes crossed the proxy:\n${result.stderr}`);
  }
  return running;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function contentOf(path: string): Promise<Buffer | undefined> {
  return readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

/** The lines stdout closes with after the summary line. */
function closingLines(stdout: string): string[] {
  const lines = stdout.trimEnd().split('\n');
  const summary = lines.findIndex((line) => / transferred \(/.test(line));
  expect(summary, stdout).toBeGreaterThanOrEqual(0);
  return lines.slice(summary + 1);
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function without(tree: Map<string, TreeEntry>, drop: (path: string) => boolean): Map<string, TreeEntry> {
  return new Map([...tree].filter(([path]) => !drop(path)));
}

describe('an unreadable directory and an unreadable file', () => {
  it('are named with permission-denied, exit 23, everything else arrives, and the next run fills them in', async () => {
    const DIRS = 50;
    const FILES = 3;
    const spec: TreeSpec = {};
    for (let d = 0; d < DIRS; d++) {
      const files: TreeSpec = {};
      for (let f = 0; f < FILES; f++) files[`f${f}.txt`] = file(100 + d * 10 + f);
      spec[`d${String(d).padStart(2, '0')}`] = dir(files);
    }
    const remote = await e2e.remoteTree('perm', spec);
    const lockedDir = 'd07';
    const lockedFile = 'd23/f1.txt';
    await chmod(join(remote, lockedDir), 0o000);
    await chmod(join(remote, lockedFile), 0o000);
    const local = await localDir();

    const first = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(first.code, first.stderr).toBe(23);
    for (const path of [lockedDir, lockedFile]) {
      expect(first.stderr).toMatch(new RegExp(`^gsync: ${escape(path)}: `, 'm'));
      expect(closingLines(first.stdout)).toContainEqual(expect.stringMatching(new RegExp(`^  permission-denied: ${escape(path)}: `)));
    }
    expect(first.stderr).not.toMatch(/^\s+at /m);

    const text = await runGsync(['status', local], { env: e2e.sshd.env });
    expect(text.code, text.stderr).toBe(0);
    for (const path of [lockedDir, lockedFile]) expect(text.stdout).toMatch(new RegExp(`^ +permission-denied: ${escape(path)}: `, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^directories not complete.*\\n(?: +.*\\n)*? +${lockedDir}: `, 'm'));

    const status = await statusJson(local);
    const problems = status.runs[0]?.problems ?? [];
    expect(problems.map((p) => [p.path, p.code]).sort()).toEqual([
      [lockedDir, 'permission-denied'],
      [lockedFile, 'permission-denied'],
    ]);
    // The directory that could not be listed, and the one that lost a file.
    const runId = status.runs[0]?.id;
    expect(status.dirs).toEqual([
      { path: lockedDir, outcome: 'unlisted', runId },
      { path: 'd23', outcome: 'incomplete', runId },
    ]);

    // Everything else is in place, byte for byte, with its mode and mtime.
    const skipped = (path: string): boolean => path === lockedDir || path.startsWith(`${lockedDir}/`) || path === lockedFile;
    const got = await readTree(local);
    expect([...got.keys()].filter((path) => path.startsWith(`${lockedDir}/`) || path === lockedFile)).toEqual([]);
    expect(without(got, skipped)).toEqual(without(await readTree(remote), skipped));

    // Fixed on the remote: the next run brings exactly what was missing.
    await chmod(join(remote, lockedDir), 0o755);
    await chmod(join(remote, lockedFile), 0o644);
    const second = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(second.code, second.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
    const after = await statusJson(local);
    expect(after.runs[0]?.filesTransferred).toBe(1 + FILES);
    expect(after.runs[0]?.problems).toEqual([]);
    expect(after.dirs).toEqual([]);
  });
});

describe('a file deleted mid-run', () => {
  it('is named as vanished with exit 24, and the rest completes', async () => {
    const small = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`s${i}.txt`, file(500 + i)]));
    // One connection serves first.bin's blocks before victim.bin's (tasks go in name order).
    const remote = await e2e.remoteTree('vanish', { 'first.bin': file(24 * MiB), 'victim.bin': file(9 * MiB), sub: dir(small) });
    const local = await localDir();

    const running = await pullHeldAfter(2 * MiB, [`via-proxy:${remote}`, local]);
    await unlink(join(remote, 'victim.bin'));
    e2e.proxy.setMode({ kind: 'pass' });
    const result = await running.done;

    expect(result.code, result.stderr).toBe(24);
    expect(result.stderr).toMatch(/^gsync: victim\.bin: /m);
    expect(closingLines(result.stdout)).toContainEqual(expect.stringMatching(/^ {2}vanished: victim\.bin: /));
    const status = await statusJson(local);
    expect(status.runs[0]?.problems).toEqual([expect.objectContaining({ path: 'victim.bin', code: 'vanished' })]);
    expect(status.runs[0]?.exitCode).toBe(24);
    expect(await readTree(local)).toEqual(await readTree(remote));
    expect(status.partials).toEqual([]);
  });
});

describe('a file appended to while it is pulled', () => {
  const cases = [
    { what: 'a 6 MiB file (sent whole)', size: 6 * MiB, previous: false },
    { what: 'a 12 MiB file (sent in blocks)', size: 12 * MiB, previous: false },
    { what: 'a 6 MiB file rewritten since the last run', size: 6 * MiB, previous: true },
    { what: 'a 12 MiB file rewritten since the last run', size: 12 * MiB, previous: true },
  ];

  it.each(cases)('$what: never torn; fetched again in the same run, exit 0 with the final content', async ({ size, previous }) => {
    const remote = await e2e.remoteTree('append', { 'other.txt': file('steady\n') });
    const path = join(remote, 'grow.bin');
    const local = await localDir();
    const versions = { v1: pseudoRandomBytes(`v1-${size}`, size), v2: pseudoRandomBytes(`v2-${size}`, size) };
    const extra = pseudoRandomBytes(`v3-${size}`, 512 * KiB);
    const v3 = Buffer.concat([versions.v2, extra]);

    if (previous) {
      await writeTree(remote, { 'grow.bin': file(versions.v1, { mtime: 1_700_000_000 }) }, { owner: e2e.sshd.user });
      const before = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
      expect(before.code, before.stderr).toBe(0);
      expect(sha256((await contentOf(join(local, 'grow.bin'))) ?? Buffer.alloc(0))).toBe(sha256(versions.v1));
      await writeFile(path, versions.v2);
      await utimes(path, 1_700_000_100, 1_700_000_100);
    } else {
      await writeTree(remote, { 'grow.bin': file(versions.v2, { mtime: 1_700_000_100 }) }, { owner: e2e.sshd.user });
    }

    const running = await pullHeldAfter(1 * MiB, [`via-proxy:${remote}`, local]);
    await appendFile(path, extra);
    e2e.proxy.setMode({ kind: 'pass' });
    const result = await running.done;

    // Whatever happened: one consistent version at the final path, or none and exit 24.
    const got = await contentOf(join(local, 'grow.bin'));
    const consistent = [sha256(v3), ...(previous ? [sha256(versions.v1)] : [])];
    if (got === undefined) expect(result.code, result.stderr).toBe(24);
    else expect(consistent, `local grow.bin is ${got.length} bytes of neither version`).toContain(sha256(got));

    // What the contract promises: the change is noticed, the file fetched again, and it settles.
    expect(result.code, result.stderr).toBe(0);
    // Read once more after the change, and then it settled: one notice.
    expect(result.stderr.split('\n').filter((line) => /^gsync: grow\.bin: .*changed while read/.test(line))).toHaveLength(1);
    expect(got?.length).toBe(v3.length);
    expect(await readTree(local)).toEqual(await readTree(remote));
  });
});

describe('a file that keeps changing', () => {
  it('is given up after its attempts with code changed and exit 24, leaving only an earlier complete copy', async () => {
    const remote = await e2e.remoteTree('churn', { 'old.log': file(200 * KiB), 'steady.txt': file('steady\n') });
    const local = await localDir();
    const first = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(first.code, first.stderr).toBe(0);
    const oldCopy = await readFile(join(local, 'old.log'));
    await writeTree(remote, { 'new.log': file(200 * KiB), 'also-steady.txt': file('arrives\n') }, { owner: e2e.sshd.user });

    // Every few ms a line lands in both logs, so each read attempt (slowed by the delay) sees a change.
    let appending = true;
    let appends = 0;
    const appender = (async (): Promise<void> => {
      while (appending) {
        await appendFile(join(remote, 'old.log'), `line ${appends}\n`);
        await appendFile(join(remote, 'new.log'), `line ${appends}\n`);
        appends++;
        await pause(3);
      }
    })();
    let result: GsyncResult;
    try {
      e2e.proxy.setMode({ kind: 'delay', ms: 15 });
      result = await runGsync(['pull', '--connections', '1', '--timeout', '10', `via-proxy:${remote}`, local], { env: e2e.sshd.env });
    } finally {
      appending = false;
      await appender;
      e2e.proxy.setMode({ kind: 'pass' });
    }
    expect(appends).toBeGreaterThan(0);

    expect(result.code, result.stderr).toBe(24);
    for (const name of ['old.log', 'new.log']) {
      // Three reads in all: two notices that it is read again, then the problem.
      const lines = result.stderr.split('\n').filter((line) => line.startsWith(`gsync: ${name}: `));
      expect(lines, result.stderr).toHaveLength(3);
      expect(lines.filter((line) => line.includes('changed while read')).length, result.stderr).toBeGreaterThanOrEqual(2);
      expect(closingLines(result.stdout)).toContainEqual(expect.stringMatching(new RegExp(`^  changed: ${escape(name)}: `)));
    }
    const status = await statusJson(local);
    expect((status.runs[0]?.problems ?? []).map((p) => [p.path, p.code]).sort()).toEqual([
      ['new.log', 'changed'],
      ['old.log', 'changed'],
    ]);
    // The earlier complete copy stays; the file never complete is not at its final path.
    expect(sha256((await contentOf(join(local, 'old.log'))) ?? Buffer.alloc(0))).toBe(sha256(oldCopy));
    expect(await contentOf(join(local, 'new.log'))).toBeUndefined();
    const got = await readTree(local);
    const want = await readTree(remote);
    for (const name of ['steady.txt', 'also-steady.txt']) expect(got.get(name), name).toEqual(want.get(name));
  });
});

describe('a signal mid-transfer', () => {
  const SIZE = 48 * MiB;

  it.each(['SIGTERM', 'SIGINT'] as const)('%s: exit 20, state intact, partial kept and listed, no lock; the next run resumes', async (signal) => {
    const small = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`log-${i}.txt`, file(2000 + i)]));
    const remote = await e2e.remoteTree('signal', { 'big.bin': file(SIZE), logs: dir(small), 'config.json': file('{}') });
    const want = await readTree(remote);
    const local = await localDir();

    const running = await pullHeldAfter(20 * MiB, [`via-proxy:${remote}`, local]);
    running.child.kill(signal);
    const result = await running.done;
    e2e.proxy.setMode({ kind: 'pass' });
    expect(result.code, result.stderr).toBe(20);
    expect(result.stderr).not.toMatch(/^\s+at /m);

    const db = new Database(join(local, '.gsync', 'state.db'), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
    expect(await readdir(join(local, '.gsync'))).not.toContain('lock');
    expect((await readdir(join(local, '.gsync', 'partial'))).length).toBeGreaterThan(0);
    const status = await statusJson(local);
    expect(status.runs[0]?.exitCode).toBe(20);
    expect(status.partials).toEqual([{ path: 'big.bin', size: SIZE, bytesDone: expect.any(Number) as number, percent: expect.any(Number) as number }]);
    const bytesDone = status.partials[0]?.bytesDone ?? 0;
    expect(bytesDone).toBeGreaterThanOrEqual(8 * MiB);
    expect(bytesDone).toBeLessThan(SIZE);

    // Nothing but complete files at final paths.
    const got = await readTree(local);
    expect(got.has('big.bin')).toBe(false);
    let missing = 0;
    for (const [path, entry] of want) {
      if (entry.kind !== 'file') continue;
      if (got.has(path)) expect(got.get(path), path).toEqual(entry);
      else missing += entry.size ?? 0;
    }

    // --dry-run tells how far the partial got, and changes nothing.
    const planned = await runGsync(['pull', '--dry-run', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(new RegExp(`^resume +big\\.bin \\([^)]+\\) at ${Math.floor((100 * bytesDone) / SIZE)}%$`, 'm'));
    expect((await statusJson(local)).partials).toEqual(status.partials);

    const rerun = await runGsync(['pull', '--connections', '1', `via-proxy:${remote}`, local], { env: e2e.sshd.env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await readTree(local)).toEqual(want);
    const after = await statusJson(local);
    // It resumed: only what was not recorded crossed again.
    expect(after.runs[0]?.bytesTransferred).toBe(missing - bytesDone);
    expect(after.runs[0]?.bytesTransferred).toBeLessThanOrEqual(SIZE - 8 * MiB);
    expect(after.partials).toEqual([]);
  });
});

describe('a local directory swapped for a symlink mid-run', () => {
  it('stops the run (exit 3) before anything is renamed through it; nothing lands outside; the next run completes', async () => {
    const remote = await e2e.remoteTree('swap', { sub: dir({ 'big.bin': file(24 * MiB), 'a.txt': file('a\n') }) });
    const parent = await e2e.tempDir();
    const local = join(parent, 'mirror');
    const outside = join(parent, 'outside');
    await mkdir(outside);

    const running = await pullHeldAfter(2 * MiB, [`via-proxy:${remote}`, local]);
    // sub/ was checked when its walk began; big.bin is in flight into .gsync/partial.
    await rename(join(local, 'sub'), join(parent, 'sub.moved'));
    await symlink(outside, join(local, 'sub'));
    e2e.proxy.setMode({ kind: 'pass' });
    const result = await running.done;

    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/the local directory \S*mirror\/sub changed while gsync ran: a symlink stands there/);
    expect(await readdir(outside)).toEqual([]);

    await unlink(join(local, 'sub'));
    await rename(join(parent, 'sub.moved'), join(local, 'sub'));
    const again = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(again.code, again.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
    expect(await readdir(outside)).toEqual([]);
  });
});
