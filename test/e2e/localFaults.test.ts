import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { e2eSuite } from '../support/e2eSuite.js';
import { GSYNC_BIN, runGsync } from '../support/runGsync.js';
import { crontabUser, runAsUser } from '../support/crontabUser.js';
import { runProcess } from '../support/runProcess.js';
import { startMountNamespace, type MountNamespace } from '../support/mountNamespace.js';
import { dir, file, readTree, writeTree, type TreeEntry, type TreeSpec } from '../support/trees.js';

/**
 * Faults on the local side (issue 7): a destination that fills up mid-run, and one that is
 * read-only. Each test gets its own mount namespace, so the small tmpfs and the read-only bind
 * mounts exist only for the gsync it runs there; gsync's output is read through
 * /proc/<holder>/root.
 */

const MiB = 1024 * 1024;
/** Bounds one gsync run: a run that hangs on a full or read-only disk fails here, not at the test timeout. */
const RUN_TIMEOUT_MS = 20_000;

const e2e = e2eSuite({ prefix: 'gsync-e2e-faults-' });
const namespaces: MountNamespace[] = [];

// Registered after e2eSuite's, so it runs before it (vitest runs after-hooks last registered
// first): the mounts go first (with their holders), then the host directories they covered.
afterEach(async () => {
  await Promise.all(namespaces.splice(0).map((ns) => ns.stop()));
});

async function mountNamespace(): Promise<MountNamespace> {
  const ns = await startMountNamespace();
  namespaces.push(ns);
  return ns;
}

/** A fresh tmpfs of `bytes` (and at most `inodes` files) at a new directory, in a mount namespace of its own. */
async function smallDisk(name: string, bytes: number, inodes?: number): Promise<{ ns: MountNamespace; mountPoint: string }> {
  const ns = await mountNamespace();
  const mountPoint = join(await e2e.tempDir(), name);
  await mkdir(mountPoint);
  await ns.mountTmpfs(mountPoint, bytes, inodes);
  return { ns, mountPoint };
}

/** `gsync pull <remote> <local>` run inside the namespace, bounded. */
function pullIn(ns: MountNamespace, remote: string, local: string): ReturnType<MountNamespace['runGsync']> {
  return ns.runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env, timeoutMs: RUN_TIMEOUT_MS });
}

interface RunRecord {
  exitCode: number;
  filesTransferred: number;
  filesSkipped: number;
}

/** `gsync status --json` as the namespace sees the destination; newest run first. */
async function statusIn(ns: MountNamespace, local: string): Promise<{ runs: RunRecord[] }> {
  const result = await ns.runGsync(['status', '--json', local], { env: e2e.sshd.env, timeoutMs: RUN_TIMEOUT_MS });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as never;
}

/** An expected failure: no stack trace, and not reported as a bug in gsync. */
function expectedFailure(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain('unexpected error');
}

/** gsync's own error lines on stderr (live problem lines and the final one), without hints. */
function gsyncLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('gsync: '));
}

/**
 * The invariant after a failed run: every entry at a final path is one the remote has, and every
 * file there is complete and byte-identical. Returns how many files are in place.
 */
function expectOnlyCompleteFiles(got: Map<string, TreeEntry>, want: Map<string, TreeEntry>): number {
  let files = 0;
  for (const [path, entry] of got) {
    expect(want.get(path)?.kind, `${path} is not in the remote tree`).toBe(entry.kind);
    if (entry.kind !== 'file') continue;
    expect(entry, `${path} is at its final path but not the remote's file`).toEqual(want.get(path));
    files++;
  }
  return files;
}

describe('local faults', () => {
  it('a destination that fills up mid-run: exit 11, only complete files in place, and the run after making room finishes', async () => {
    // Each file fits the empty tmpfs; together they are 31 MiB. The two >= 8 MiB go in blocks
    // into partials the state file remembers; the small ones go whole.
    const remote = await e2e.remoteTree('fills-up', {
      'big-1.bin': file(9 * MiB + 123),
      'big-2.bin': file(10 * MiB - 7),
      small: dir({ 'a.bin': file(3 * MiB + 1), 'b.bin': file(4 * MiB + 2), 'c.bin': file(5 * MiB + 3) }),
    });
    const want = await readTree(remote);
    const remoteFilePaths = [...want].filter(([, e]) => e.kind === 'file').map(([path]) => path);
    const remoteFiles = [...want.values()].filter((e) => e.kind === 'file');
    const tmpfsBytes = 12 * MiB;
    expect(Math.max(...remoteFiles.map((e) => e.size ?? 0))).toBeLessThan(tmpfsBytes);
    expect(remoteFiles.reduce((sum, e) => sum + (e.size ?? 0), 0)).toBeGreaterThan(2 * tmpfsBytes);

    const { ns, mountPoint } = await smallDisk('small-disk', tmpfsBytes);
    const local = join(mountPoint, 'mirror');

    const full = await pullIn(ns, remote, local);
    expect(full.code, full.stderr).toBe(11);
    const diskFull = gsyncLines(full.stderr).filter((line) => line.startsWith('gsync: the disk is full: '));
    expect(diskFull, full.stderr).toHaveLength(1);
    const line = diskFull[0] ?? '';
    // The file being written, as a path under the destination or relative to it, and the destination.
    const namesAFile = line.includes(`${local}/`) || remoteFilePaths.some((path) => line.includes(path));
    expect(namesAFile, `names the path being written: ${line}`).toBe(true);
    expect(line, 'names the destination').toContain(local);
    expect(line, 'says how much is free').toMatch(/\d.*\bfree\b|\bfree\b.*\d/);
    expect(full.stderr).toMatch(/^gsync: the disk is full: .*\n\s+hint: \S/m);
    expectedFailure(full.stderr);

    const afterFull = await readTree(ns.view(local));
    const complete = expectOnlyCompleteFiles(afterFull, want);
    expect(complete).toBeLessThan(remoteFiles.length);
    // Nothing beside the destination either: the tmpfs holds the mirror and nothing else.
    expect(await readdir(ns.view(mountPoint))).toEqual(['mirror']);

    await ns.resizeTmpfs(mountPoint, 64 * MiB);
    const again = await pullIn(ns, remote, local);
    expect(again.code, again.stderr).toBe(0);
    expect(await readTree(ns.view(local))).toEqual(want);
    expect(await readdir(ns.view(join(local, '.gsync', 'partial')))).toEqual([]);

    const { runs } = await statusIn(ns, local);
    // The full disk's run recorded how it ended (its unfinished partials made the room for that).
    expect(runs.map((r) => r.exitCode)).toEqual([0, 11]);
    // What the full disk left complete is kept, not fetched again.
    expect(runs[0]).toMatchObject({ filesSkipped: complete, filesTransferred: remoteFiles.length - complete });
  });

  it('a new file that fits the disk but not the room left: exit 11 before a byte of it lands, one line naming it', async () => {
    const remote = await e2e.remoteTree('no-room-left', { 'old.bin': file(7 * MiB) });
    const { ns, mountPoint } = await smallDisk('small-disk', 12 * MiB);
    const local = join(mountPoint, 'mirror');
    const first = await pullIn(ns, remote, local);
    expect(first.code, first.stderr).toBe(0);

    // ~5 MiB left: the new file would fit the empty disk, not this one.
    await writeTree(remote, { 'new.bin': file(8 * MiB) });
    const full = await pullIn(ns, remote, local);
    expect(full.code, full.stderr).toBe(11);
    expect(gsyncLines(full.stderr), full.stderr).toEqual([expect.stringMatching(/^gsync: the disk is full: new\.bin \(8\.0 MiB\) cannot fit; .* free in .*mirror/)]);
    expect(full.stderr).toMatch(/\n\s+hint: free some space/);
    expectedFailure(full.stderr);
    expect([...(await readTree(ns.view(local))).keys()].filter((path) => path.endsWith('.bin'))).toEqual(['old.bin']);
    expect(await readdir(ns.view(join(local, '.gsync', 'partial')))).toEqual([]);
  });

  it('a disk already full when the run starts: exit 11, one line saying so, nothing left behind; with room again the run finishes', async () => {
    const remote = await e2e.remoteTree('full-from-start', { 'a.txt': file('one') });
    const { ns, mountPoint } = await smallDisk('full-disk', 4 * MiB);
    const local = join(mountPoint, 'mirror');
    const first = await pullIn(ns, remote, local);
    expect(first.code, first.stderr).toBe(0);

    // Filled to the last page: the write that does not fit leaves what did.
    const filler = join(ns.view(mountPoint), 'filler');
    await expect(writeFile(filler, Buffer.alloc(4 * MiB))).rejects.toMatchObject({ code: 'ENOSPC' });
    await writeTree(remote, { 'b.txt': file('two') });
    const full = await pullIn(ns, remote, local);
    expect(full.code, full.stderr).toBe(11);
    expect(gsyncLines(full.stderr), full.stderr).toEqual([expect.stringMatching(/^gsync: the disk is full: /)]);
    expect(full.stderr).toMatch(/\n\s+hint: free some space/);
    expectedFailure(full.stderr);
    expect((await readdir(ns.view(join(local, '.gsync')))).filter((name) => name.startsWith('lock'))).toEqual([]);

    await rm(filler);
    const after = await pullIn(ns, remote, local);
    expect(after.code, after.stderr).toBe(0);
    expect(await readTree(ns.view(local))).toEqual(await readTree(remote));
  });

  it('a file system out of inodes, not bytes: exit 11, one line saying so, only complete files in place', async () => {
    const tree: TreeSpec = {};
    for (let i = 0; i < 60; i++) tree[`f${String(i).padStart(2, '0')}.txt`] = file(`file ${i}`);
    const remote = await e2e.remoteTree('few-inodes', tree);
    // Bytes to spare; room for about half the files.
    const { ns, mountPoint } = await smallDisk('few-inodes', 16 * MiB, 40);
    const local = join(mountPoint, 'mirror');

    const result = await pullIn(ns, remote, local);
    expect(result.code, result.stderr).toBe(11);
    expect(gsyncLines(result.stderr), result.stderr).toEqual([expect.stringMatching(/^gsync: the disk is full: .*has no inodes left/)]);
    expect(result.stderr).toMatch(/\n\s+hint: delete some files/);
    expectedFailure(result.stderr);
    const placed = expectOnlyCompleteFiles(await readTree(ns.view(local)), await readTree(remote));
    expect(placed).toBeLessThan(60);
  });

  it('a working directory deleted under the shell: exit 3, one line saying so, for a pull with absolute paths too', async () => {
    const remote = await e2e.remoteTree('cwd-gone', { 'a.txt': file('one') });
    const base = await e2e.tempDir();
    const local = join(base, 'mirror');
    const gone = join(base, 'gone');
    await mkdir(gone);
    const script = 'cd "$1" && rmdir "$1" && shift && exec "$@"';
    const result = await runProcess('sh', ['-c', script, 'sh', gone, process.execPath, GSYNC_BIN, 'pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env, timeoutMs: RUN_TIMEOUT_MS });
    const stderr = result.stderr.toString('utf8');
    expect(result.code, stderr).toBe(3);
    expect(gsyncLines(stderr)).toEqual(['gsync: the current directory no longer exists (deleted since the shell entered it)']);
    expectedFailure(stderr);
  });

  it('an entry whose local path would pass PATH_MAX is reported on its own (exit 23), and the rest arrives; a shorter destination takes it all', async () => {
    // 18 directories of 200-byte names: ~3,650 bytes below the remote root, which the server takes.
    const names = Array.from({ length: 18 }, (_, i) => `${'d'.repeat(200)}${i}`);
    const deep = names.reduceRight<TreeSpec>((inner, name) => ({ [name]: dir(inner) }), { 'leaf.txt': file('deep\n') });
    const remote = await e2e.remoteTree('path-max', { 'top.txt': file('top\n'), ...deep });
    // A destination ~480 bytes long (SQLite takes up to 512): the deepest directories pass 4,095 bytes there.
    const base = await e2e.tempDir();
    const long = join(base, 'x'.repeat(200), 'y'.repeat(480 - base.length - 203));
    await mkdir(long, { recursive: true });
    const local = join(long, 'm');
    // --dry-run plans as the run does: the same problem, the same exit code, nothing made.
    const planned = await runGsync(['pull', '--dry-run', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env, timeoutMs: RUN_TIMEOUT_MS });
    expect(planned.code, planned.stderr).toBe(23);
    expect(planned.stdout).toMatch(/^ {2}too-large: d+.*: not placed: its local path would be \d+ bytes, past the 4095 the system allows/m);
    expect(existsSync(local)).toBe(false);
    const result = await runGsync(['pull', '--json', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env, timeoutMs: RUN_TIMEOUT_MS });
    expect(result.code, result.stderr).toBe(23);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { problems: Array<{ path: string; code: string; stage: string; message: string }> };
    expect(summary.problems).toHaveLength(1);
    const [problem] = summary.problems;
    expect(problem).toMatchObject({ code: 'too-large', stage: 'plan' });
    expect(problem?.message).toMatch(/^not placed: its local path would be \d+ bytes, past the 4095 the system allows/);
    // The first directory that cannot be placed: its parent's path fits, its own does not.
    const depth = problem?.path.split('/').length ?? 0;
    expect(Buffer.byteLength(join(local, ...names.slice(0, depth - 1)))).toBeLessThanOrEqual(4095);
    expect(Buffer.byteLength(join(local, ...names.slice(0, depth)))).toBeGreaterThan(4095);
    const placed = await readTree(local);
    expect(placed.get('top.txt')).toStrictEqual((await readTree(remote)).get('top.txt'));

    const short = join(await e2e.tempDir(), 'm');
    const whole = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, short], { env: e2e.sshd.env, timeoutMs: RUN_TIMEOUT_MS });
    expect(whole.code, whole.stderr).toBe(0);
    expect(await readTree(short)).toStrictEqual(await readTree(remote));
  });

  it('status on a state file the user may not read (another user\'s .gsync, 0700): exit 11 saying so, not "missing"', async () => {
    const remote = await e2e.remoteTree('not-yours', { 'a.txt': file('one') });
    const base = await e2e.tempDir();
    await chmod(base, 0o755);
    const local = join(base, 'mirror');
    const first = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(first.code, first.stderr).toBe(0);
    await chmod(local, 0o755);
    // Run as the unprivileged test user when the suite is root; else kept from this user itself.
    const user = crontabUser();
    if (!user.runner) await chmod(join(local, '.gsync'), 0o000);
    const result = await runAsUser(user, [process.execPath, GSYNC_BIN, 'status', local], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: base }, timeoutMs: RUN_TIMEOUT_MS });
    if (!user.runner) await chmod(join(local, '.gsync'), 0o700);
    const stderr = result.stderr.toString('utf8');
    expect(result.code, stderr).toBe(11);
    expect(gsyncLines(stderr)).toEqual([`gsync: cannot read the state file: EACCES (${join(local, '.gsync', 'state.db')})`]);
    expectedFailure(stderr);
  });

  it('a read-only destination: exit 11 at once, with one line saying so', async () => {
    const remote = await e2e.remoteTree('to-read-only', { 'a.txt': file('one'), sub: dir({ 'b.bin': file(64 * 1024) }) });
    const ns = await mountNamespace();
    const local = join(await e2e.tempDir(), 'mirror');
    await mkdir(local);
    await ns.bindToItself(local);
    await ns.remountReadOnly(local);
    // Root ignores modes, but not a read-only mount: check that the fixture is what it claims.
    await expect(writeFile(join(ns.view(local), 'probe'), 'x')).rejects.toMatchObject({ code: 'EROFS' });

    const result = await pullIn(ns, remote, local);
    expect(result.code, result.stderr).toBe(11);
    // One fatal line, not a failure per file tried.
    const lines = gsyncLines(result.stderr);
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain('read-only');
    expectedFailure(result.stderr);
  });

  it('a destination still to be made under a read-only mount: exit 11 saying read-only, not "cannot use it"', async () => {
    const remote = await e2e.remoteTree('under-read-only', { 'a.txt': file('one') });
    const ns = await mountNamespace();
    const mount = join(await e2e.tempDir(), 'ro');
    await mkdir(mount);
    await ns.bindToItself(mount);
    await ns.remountReadOnly(mount);
    const result = await pullIn(ns, remote, join(mount, 'new', 'mirror'));
    expect(result.code, result.stderr).toBe(11);
    expect(gsyncLines(result.stderr), result.stderr).toEqual([expect.stringMatching(/^gsync: the destination is read-only: /)]);
    expectedFailure(result.stderr);
  });

  it('a complete copy remounted read-only while the remote gained a file: exit 11; writable again, the next run finishes', async () => {
    const remote = await e2e.remoteTree('goes-read-only', { 'a.txt': file('one'), sub: dir({ 'b.bin': file(64 * 1024) }) });
    const ns = await mountNamespace();
    const local = join(await e2e.tempDir(), 'mirror');
    await mkdir(local);
    await ns.bindToItself(local);

    const first = await pullIn(ns, remote, local);
    expect(first.code, first.stderr).toBe(0);
    expect(await readTree(ns.view(local))).toEqual(await readTree(remote));

    await writeTree(remote, { 'new.bin': file(4096) }, { owner: e2e.sshd.user });
    await ns.remountReadOnly(local);
    const second = await pullIn(ns, remote, local);
    expect(second.code, second.stderr).toBe(11);
    const lines = gsyncLines(second.stderr);
    expect(lines, second.stderr).toHaveLength(1);
    expect(lines[0]).toContain('read-only');
    expectedFailure(second.stderr);
    // What the state file knows can still be read there: it was left in a mode that needs no writes.
    const readOnlyStatus = await ns.runGsync(['status', local], { env: e2e.sshd.env, timeoutMs: RUN_TIMEOUT_MS });
    expect(readOnlyStatus.code, readOnlyStatus.stderr).toBe(0);
    expect(readOnlyStatus.stdout).toMatch(/^#1 .*: ok, 2 files/m);

    // Writable again, the same destination takes the next run: no stale lock, the state file intact.
    await ns.remountReadWrite(local);
    const third = await pullIn(ns, remote, local);
    expect(third.code, third.stderr).toBe(0);
    expect(await readTree(ns.view(local))).toEqual(await readTree(remote));
    const { runs } = await statusIn(ns, local);
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0]);
    expect(runs[0]).toMatchObject({ filesTransferred: 1, filesSkipped: 2 });
  });
});
