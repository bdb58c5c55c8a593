import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, stat, symlink as makeSymlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { e2eSuite } from '../support/e2eSuite.js';
import { runGsync } from '../support/runGsync.js';
import { dir, file, readTree, symlink, writeTree } from '../support/trees.js';

/** A small training run: every kind of entry the first version must carry across. */
const trainingRun = {
  'config.json': file('{"lr": 0.001, "epochs": 3}\n', { mode: 0o644, mtime: 1_700_000_000 }),
  checkpoints: dir(
    {
      'step-100.pt': file(64 * 1024 * 1024, { mode: 0o600, mtime: 1_700_000_100 }),
      'step-200.pt': file(3 * 1024 * 1024 + 17, { mode: 0o640, mtime: 1_700_000_200 }),
      'latest.pt': symlink('step-200.pt'),
    },
    { mode: 0o750, mtime: 1_700_000_300 },
  ),
  logs: dir({ 'train log ü.txt': file('epoch 1 loss 0.9\n'.repeat(200), { mtime: 1_700_000_400 }), 'empty.log': file('') }, { mtime: 1_700_000_500 }),
  deep: dir({ a: dir({ b: dir({ c: dir({ 'leaf.bin': file(4097, { mode: 0o755 }) }) }) }) }),
  'empty dir': dir({}, { mode: 0o700, mtime: 1_700_000_600 }),
};

const e2e = e2eSuite({ prefix: 'gsync-e2e-local-' });

async function statusOf(localDir: string): Promise<{ runs: Array<{ bytesTransferred: number; filesTransferred: number; filesSkipped: number; exitCode: number }> }> {
  const result = await runGsync(['status', '--json', localDir], { env: e2e.sshd.env });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as never;
}

function withoutStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at /m);
}

describe('gsync pull', () => {
  it('mirrors a tree byte for byte with modes and mtimes, and a second run sends nothing', async () => {
    const remote = await e2e.remoteTree('run1', trainingRun);
    const local = join(await e2e.tempDir(), 'mirror');

    const first = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^6 files transferred \(67\.0 MiB\), 0 up to date \(0 B\), 1 symlink in /m);

    const want = await readTree(remote);
    expect(await readTree(local)).toEqual(want);
    const [remoteRoot, localRoot] = await Promise.all([stat(remote), stat(local)]);
    expect(localRoot.mode & 0o7777).toBe(remoteRoot.mode & 0o7777);
    expect(Math.floor(localRoot.mtimeMs / 1000)).toBe(Math.floor(remoteRoot.mtimeMs / 1000));
    expect(await readdir(join(local, '.gsync', 'partial'))).toEqual([]);

    const second = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(second.code, second.stderr).toBe(0);
    const { runs } = await statusOf(local);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ bytesTransferred: 0, filesTransferred: 0, exitCode: 0 });
    expect(runs[0]?.filesSkipped).toBe(7); // 6 files and the symlink
    expect(runs[1]?.bytesTransferred).toBe([...want.values()].reduce((sum, e) => sum + (e.kind === 'file' ? (e.size ?? 0) : 0), 0));
    expect(await readTree(local)).toEqual(want);
  });

  it('lists a tree in one stream as SFTP lists it: the same mirror, and each is up to date by the other listing', async () => {
    // All below the root: the root's own listing comes by SFTP with its STAT, the rest from the stream.
    const remote = await e2e.remoteTree('odd', {
      run: dir({
        'with space, \'quote\' and "double".txt': file('a'),
        'new\nline': file('b', { mode: 0o600 }),
        '-dash': dir({ 'ünïcode 名前': file('c', { mtime: 1_000_000_000 }) }, { mode: 0o750 }),
        // Before 1970: SFTP's unsigned 32-bit mtime, which the stream must give too.
        'old.txt': file('d', { mtime: -1 }),
        nested: dir({ deeper: dir({ 'leaf.bin': file(5000, { mode: 0o755 }), link: symlink('leaf.bin') }), 'empty dir': dir({}) }),
      }),
    });
    const [byStream, bySftp] = [join(await e2e.tempDir(), 'stream'), join(await e2e.tempDir(), 'sftp')];
    const pull = async (local: string, ...flags: string[]): Promise<string> => {
      const result = await runGsync(['pull', ...flags, `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    };
    await pull(byStream);
    await pull(bySftp, '--no-tar');
    const mirrored = await readTree(byStream);
    expect(await readTree(bySftp)).toEqual(mirrored);
    expect([...mirrored.keys()]).toEqual([...(await readTree(remote)).keys()]);
    // Each mirror's state file was written from one listing; a re-run by the other finds nothing to do.
    expect(await pull(byStream, '--no-tar')).toMatch(/^0 files transferred \(0 B\), 6 up to date /m);
    expect(await pull(bySftp)).toMatch(/^0 files transferred \(0 B\), 6 up to date /m);
  });

  it('lands in ./<basename> without a local-dir, and fetches only what changed', async () => {
    const remote = await e2e.remoteTree('named-run', { 'a.txt': file('one'), 'b.txt': file('two', { mtime: 1_600_000_000 }) });
    const cwd = await e2e.tempDir();
    const first = await runGsync(['pull', `${e2e.sshd.alias}:${remote}/`], { env: e2e.sshd.env, cwd });
    expect(first.code, first.stderr).toBe(0);
    const local = join(cwd, 'named-run');
    expect(await readTree(local)).toEqual(await readTree(remote));

    await writeTree(remote, { 'b.txt': file('two, longer', { mtime: 1_600_000_100 }) }, { owner: e2e.sshd.user });
    const second = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`], { env: e2e.sshd.env, cwd });
    expect(second.code, second.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
    const { runs } = await statusOf(local);
    expect(runs[0]).toMatchObject({ filesTransferred: 1, bytesTransferred: 'two, longer'.length, filesSkipped: 1 });
  });

  it('pulls a single file into local-dir', async () => {
    const remote = await e2e.remoteTree('single', { 'metrics.json': file('{"acc": 0.93}', { mode: 0o640, mtime: 1_650_000_000 }), 'other.bin': file(1000) });
    const local = await e2e.tempDir();
    const result = await runGsync(['pull', `${e2e.sshd.alias}:${remote}/metrics.json`, local], { env: e2e.sshd.env });
    expect(result.code, result.stderr).toBe(0);
    const tree = await readTree(local);
    expect([...tree.keys()]).toEqual(['metrics.json']);
    expect(tree.get('metrics.json')).toEqual((await readTree(remote)).get('metrics.json'));
  });

  it('reports an unreadable file by path, brings everything else, and exits 23', async () => {
    const remote = await e2e.remoteTree('unreadable', {
      'ok.txt': file('fine'),
      'secret.bin': file(2048, { mode: 0o000 }),
      sub: dir({ 'also-ok.txt': file('fine too') }),
    });
    const local = await e2e.tempDir();
    const result = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(result.code).toBe(23);
    expect(result.stderr).toMatch(/secret\.bin: cannot read: Permission denied/);
    withoutStackTrace(result.stderr);
    const want = await readTree(remote);
    want.delete('secret.bin');
    expect(await readTree(local)).toEqual(want);
    expect(await readdir(join(local, '.gsync', 'partial'))).toEqual([]);
  });

  it('bounds a listing and the depth: what goes past is reported, the rest arrives with its attributes', async () => {
    const remote = await e2e.remoteTree('bounded', {
      'ok.txt': file('fine'),
      crowded: dir(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}`, file(`${i}`)]))),
      a: dir({ 'a.txt': file('a'), b: dir({ 'b.txt': file('b'), c: dir({ 'too-deep.txt': file('c') }) }, { mode: 0o750, mtime: 1_600_000_000 }) }),
    });
    const local = await e2e.tempDir();
    const result = await runGsync(['pull', '--max-dir-entries', '4', '--max-depth', '2', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(result.code, result.stderr).toBe(23);
    expect(result.stderr).toMatch(/^gsync: crowded: cannot list directory: the listing went past its bounds: more than 4 entries \(--max-dir-entries/m);
    expect(result.stderr).toMatch(/^gsync: a\/b\/c: not descended into: deeper than 2 levels/m);
    withoutStackTrace(result.stderr);
    const got = await readTree(local);
    const want = await readTree(remote);
    for (const path of ['ok.txt', 'a', 'a/a.txt', 'a/b', 'a/b/b.txt']) expect(got.get(path), path).toEqual(want.get(path));
    expect([...got.keys()].filter((p) => p.startsWith('crowded/') || p.startsWith('a/b/c/'))).toEqual([]);
  });

  it('never follows a symlink planted at .gsync: refuses with exit 3, its target untouched', async () => {
    const remote = await e2e.remoteTree('planted-state', { 'ok.txt': file('fine') });
    const base = await e2e.tempDir();
    const elsewhere = join(base, 'elsewhere');
    const local = join(base, 'mirror');
    await writeTree(elsewhere, { 'keep.txt': file('mine', { mode: 0o644 }) });
    await writeTree(local, {});
    await makeSymlink(elsewhere, join(local, '.gsync'));
    const before = await readTree(elsewhere);
    const modeBefore = (await stat(elsewhere)).mode;
    const result = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/\.gsync is not a directory \(a symlink/);
    expect(await readTree(elsewhere)).toEqual(before);
    expect((await stat(elsewhere)).mode, 'no chmod through the link').toBe(modeBefore);
  });


  it('never writes through a symlink planted at the state file, nor hangs on a FIFO at the lock: exit 3 naming it', async () => {
    const remote = await e2e.remoteTree('planted-state-file', { 'ok.txt': file('fine') });
    const base = await e2e.tempDir();
    const outside = join(base, 'outside.db');
    const local = join(base, 'mirror');
    await writeTree(local, { '.gsync': dir({}) });
    await makeSymlink(outside, join(local, '.gsync', 'state.db'));
    const linked = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(linked.code, linked.stderr).toBe(3);
    expect(linked.stderr).toMatch(/^gsync: \S+\/\.gsync\/state\.db is not a regular file \(a symlink/m);
    withoutStackTrace(linked.stderr);
    expect(existsSync(outside), 'nothing made through the link').toBe(false);

    await rm(join(local, '.gsync', 'state.db'));
    execFileSync('mkfifo', [join(local, '.gsync', 'lock')]);
    const fifo = await runGsync(['pull', '--timeout', '5', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(fifo.code, fifo.stderr).toBe(3);
    expect(fifo.stderr).toMatch(/^gsync: \S+\/\.gsync\/lock is not a regular file/m);
    expect(await readdir(local), 'nothing pulled').toEqual(['.gsync']);
  });
  it('drops setuid, setgid and sticky bits on arrival, and takes the umask off', async () => {
    const remote = await e2e.remoteTree('special-modes', {
      'setuid-tool': file('#!/bin/sh\n', { mode: 0o4755 }),
      'setgid-tool': file('#!/bin/sh\n', { mode: 0o2750 }),
      shared: dir({ 'f.txt': file('x') }, { mode: 0o1777 }),
    });
    expect((await stat(join(remote, 'setuid-tool'))).mode & 0o7777).toBe(0o4755);
    const local = await e2e.tempDir();
    const result = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(result.code, result.stderr).toBe(0);
    const tree = await readTree(local);
    expect(tree.get('setuid-tool')?.mode).toBe(0o755);
    expect(tree.get('setgid-tool')?.mode).toBe(0o750);
    // gsync inherits this process's umask, as from a shell.
    expect(tree.get('shared')?.mode).toBe(0o777 & ~process.umask());
  });

  it('takes user@host:dir, with settings for that host from the config', async () => {
    const remote = await e2e.remoteTree('by-user-at-host', { 'a.txt': file('via user@host') });
    const local = join(await e2e.tempDir(), 'out');
    const config = join(await e2e.tempDir(), 'config');
    await writeFile(
      config,
      `Host 127.0.0.1\n  Port ${e2e.sshd.port}\n  IdentityFile ${e2e.sshd.identityPath}\n  UserKnownHostsFile ${e2e.sshd.knownHostsPath}\n`,
    );
    const result = await runGsync(['pull', '-F', config, `${e2e.sshd.user.name}@127.0.0.1:${remote}`, local], { env: e2e.sshd.env });
    expect(result.code, result.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
  });

  it('asks for a local-dir when the remote path has no name of its own', async () => {
    const cwd = await e2e.tempDir();
    for (const source of [`${e2e.sshd.alias}:`, `${e2e.sshd.alias}:~`, `${e2e.sshd.alias}:/`]) {
      const result = await runGsync(['pull', source], { env: e2e.sshd.env, cwd });
      expect(result.code, source).toBe(1);
      expect(result.stderr).toMatch(/has no name to use for the local directory\n\s+hint: give the local directory explicitly/);
    }
    expect(await readdir(cwd)).toEqual([]);
  });

  it('refuses a local-dir that is a file, with exit 3 and a hint', async () => {
    const remote = await e2e.remoteTree('to-a-file', { 'a.txt': file('x') });
    const parent = await e2e.tempDir();
    const target = join(parent, 'not-a-dir');
    await writeFile(target, 'mine');
    const result = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, target], { env: e2e.sshd.env });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/is not a directory\n\s+hint: /);
    withoutStackTrace(result.stderr);
  });

  it('says a missing remote path does not exist, with exit 3', async () => {
    const local = await e2e.tempDir();
    const result = await runGsync(['pull', `${e2e.sshd.alias}:${e2e.sshd.dataDir}/no-such-dir`, local], { env: e2e.sshd.env });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/no-such-dir does not exist\n\s+hint: /);
    withoutStackTrace(result.stderr);
  });

  it('rejects an unknown alias and a missing colon as usage errors (exit 1)', async () => {
    const local = await e2e.tempDir();
    const unknown = await runGsync(['pull', 'no-such-alias-gsync.invalid:data', local], { env: e2e.sshd.env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown host alias 'no-such-alias-gsync\.invalid'/);
    withoutStackTrace(unknown.stderr);

    const noColon = await runGsync(['pull', 'gsync-test', local], { env: e2e.sshd.env });
    expect(noColon.code).toBe(1);
    expect(noColon.stderr).toMatch(/expected <alias>:<remote-path>/);
    expect(noColon.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('refuses a host whose key is not in known_hosts (exit 5), and one whose key changed', async () => {
    const remote = await e2e.remoteTree('hostkey', { 'a.txt': file('x') });
    const dir = await e2e.tempDir();
    const config = join(dir, 'config');
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, '');
    await writeFile(
      config,
      `Host strict\n  HostName 127.0.0.1\n  Port ${e2e.sshd.port}\n  User ${e2e.sshd.user.name}\n  IdentityFile ${e2e.sshd.identityPath}\n  UserKnownHostsFile ${knownHosts}\n  StrictHostKeyChecking yes\n`,
    );
    const unknown = await runGsync(['pull', '-F', config, `strict:${remote}`, join(dir, 'out')], { env: e2e.sshd.env });
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toMatch(/host key of \[127\.0\.0\.1\]:\d+ is not known/);

    const otherKey = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    await writeFile(knownHosts, `[127.0.0.1]:${e2e.sshd.port} ssh-ed25519 ${otherKey}\n`);
    const changed = await runGsync(['pull', '-F', config, `strict:${remote}`, join(dir, 'out')], { env: e2e.sshd.env });
    expect(changed.code).toBe(5);
    expect(changed.stderr).toMatch(/changed[\s\S]*ssh-keygen -R '\[127\.0\.0\.1\]:\d+'/);
    withoutStackTrace(changed.stderr);
  });
});

