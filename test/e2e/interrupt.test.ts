import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { e2eSuite } from '../support/e2eSuite.js';
import { killGroup } from '../support/runProcess.js';
import { runGsync, spawnGsync } from '../support/runGsync.js';
import { dir, file, readTree, type TreeEntry, type TreeSpec } from '../support/trees.js';

/** Kill points per run of this suite; raise it by hand (GSYNC_KILL_POINTS=20) for a deeper sweep. */
const KILL_POINTS = Number(process.env.GSYNC_KILL_POINTS ?? 3);
const MiB = 1024 * 1024;

const e2e = e2eSuite({ prefix: 'gsync-e2e-kill-', proxy: true });
let remote: string;
let want: Map<string, TreeEntry>;

/** One remote tree for every kill point; runs after e2eSuite's beforeAll (registered first), so sshd is up. */
beforeAll(async () => {
  const checkpoints = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`step-${i}.pt`, file(3 * MiB + i * 1000)]));
  const logs = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`log-${i}.txt`, file(1000 + i)]));
  remote = await e2e.remoteTree('run', { checkpoints: dir(checkpoints), logs: dir(logs), 'config.json': file('{}') });
  want = await readTree(remote);
});

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Starts a pull through the stalling proxy and resolves once `bytes` more crossed it (or the run ended first). */
async function pullUntil(local: string, bytes: number, from = remote): Promise<{ child: ChildProcess; finished: boolean }> {
  e2e.proxy.setMode({ kind: 'stall-after', bytes });
  const child = spawnGsync(['pull', '--connections', '2', `via-proxy:${from}`, local], { env: e2e.sshd.env });
  e2e.track(child);
  const ended = exited(child).then(() => true);
  const reached = e2e.proxy.waitForBytesDown(e2e.proxy.bytesDown + bytes).then(() => false);
  return { child, finished: await Promise.race([ended, reached]) };
}

/** The files under .gsync/partial, in the directories a run spreads its small files' partials over too (none if it is gone). */
async function partialFiles(local: string): Promise<string[]> {
  const entries = await readdir(join(local, '.gsync', 'partial'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

/** Until the run has a partial under .gsync/partial (a file begun), or has ended; at most 10 s. */
async function partialOrExit(local: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  let ended = false;
  void exited(child).then(() => (ended = true));
  while (!ended && Date.now() < deadline) {
    if ((await partialFiles(local)).length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The invariant: whatever is at a final path is complete and identical to the remote entry. */
async function expectOnlyCompleteFiles(local: string, wanted = want): Promise<number> {
  const got = await readTree(local);
  for (const [path, entry] of got) {
    if (entry.kind !== 'file') continue;
    expect(entry, path).toEqual(wanted.get(path));
  }
  return [...got.values()].filter((e) => e.kind === 'file').length;
}

/** 600 files of 4-12 KiB in 4 directories: one tar task (tarLane.ts), nothing by SFTP. */
function smallFiles(): TreeSpec {
  return Object.fromEntries(
    Array.from({ length: 4 }, (_, d) => [`logs-${d}`, dir(Object.fromEntries(Array.from({ length: 150 }, (_, f) => [`r${f}.log`, file(4096 + ((d * 150 + f) * 331) % 8192)])))]),
  );
}

describe('interrupted pulls', () => {
  it('a SIGKILL at any point leaves only complete files at final paths, and the next run finishes', async () => {
    const local = join(await e2e.tempDir(), 'mirror');
    let killedMidFile = 0;
    for (let point = 1; point <= KILL_POINTS; point++) {
      // Spread the kill points over the first ~15 MiB, where the big files are mid-flight.
      const { child, finished } = await pullUntil(local, Math.round((point * 5 * MiB) / KILL_POINTS) + 64 * 1024);
      killGroup(child);
      await exited(child);
      if (finished) continue;
      const partials = await partialFiles(local);
      if (partials.length > 0) killedMidFile++;
      const complete = await expectOnlyCompleteFiles(local);
      expect(complete).toBeLessThan([...want.values()].filter((e) => e.kind === 'file').length);
    }
    expect(killedMidFile).toBeGreaterThan(0);

    e2e.proxy.setMode({ kind: 'pass' });
    const last = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(last.code, last.stderr).toBe(0);
    expect(await readTree(local)).toEqual(want);
    expect(await readdir(join(local, '.gsync', 'partial'))).toEqual([]);
  });

  it('a SIGKILL in the middle of a tar stream of small files leaves only complete files, and the next run finishes', async () => {
    const small = await e2e.remoteTree('small-run', smallFiles());
    const wanted = await readTree(small);
    const files = [...wanted.values()].filter((e) => e.kind === 'file').length;
    const local = join(await e2e.tempDir(), 'mirror');
    let killedMidStream = 0;
    for (let point = 1; point <= KILL_POINTS; point++) {
      // Spread over the stream's first ~3 MiB of ~4.7.
      const { child, finished } = await pullUntil(local, Math.round((point * 3 * MiB) / KILL_POINTS) + 64 * 1024, small);
      // The bytes crossed the proxy; on a loaded machine the run may not have read them yet.
      if (!finished) await partialOrExit(local, child);
      killGroup(child);
      await exited(child);
      if (finished) continue;
      const partials = await partialFiles(local);
      if (partials.length > 0) killedMidStream++;
      expect(await expectOnlyCompleteFiles(local, wanted)).toBeLessThan(files);
    }
    expect(killedMidStream).toBeGreaterThan(0);

    e2e.proxy.setMode({ kind: 'pass' });
    const last = await runGsync(['pull', '--json', `${e2e.sshd.alias}:${small}`, local], { env: e2e.sshd.env });
    expect(last.code, last.stderr).toBe(0);
    // What the kills cut short came again by tar, not by a fallback.
    const events = last.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { event: string; transfer?: string });
    expect(events.filter((e) => e.event === 'file' && e.transfer === 'tar').length).toBeGreaterThan(0);
    expect(await readTree(local)).toEqual(wanted);
    expect(await readdir(join(local, '.gsync', 'partial'))).toEqual([]);
  });

  it('a link that drops under a tar stream: the files come again by SFTP after a retry, exit 0', async () => {
    const small = await e2e.remoteTree('small-drops', smallFiles());
    const local = join(await e2e.tempDir(), 'mirror');
    // Every connection breaks after 2 MiB: the tar stream (~4.7 MiB) never finishes, SFTP batches (~0.5 MiB) do.
    e2e.proxy.setMode({ kind: 'drop-after', bytes: 2 * MiB });
    const result = await runGsync(['pull', '--connections', '1', `via-proxy:${small}`, local], { env: e2e.sshd.env, timeoutMs: 60_000 });
    e2e.proxy.setMode({ kind: 'pass' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/trying again in .* \(1 of 5\)/);
    expect(await readTree(local)).toEqual(await readTree(small));
    expect(await readdir(join(local, '.gsync', 'partial'))).toEqual([]);
  });

  it('a second run on the same destination says who holds it and exits 75', async () => {
    const local = join(await e2e.tempDir(), 'mirror');
    const { child, finished } = await pullUntil(local, 2 * MiB);
    expect(finished).toBe(false);
    const second = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(second.code).toBe(75);
    expect(second.stderr).toContain(`pid ${child.pid}`);
    expect(second.stderr).toMatch(/hint: /);
    killGroup(child);
    await exited(child);
    e2e.proxy.setMode({ kind: 'pass' });
    // The lock of a process that is gone is taken over.
    const third = await runGsync(['pull', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(third.code, third.stderr).toBe(0);
  });

  it('three runs started together on one destination: exactly one proceeds, the others exit 75', async () => {
    const local = join(await e2e.tempDir(), 'mirror');
    // Each connection is held after 2 MiB: the one run that took the lock stops mid-transfer, holding it.
    e2e.proxy.setMode({ kind: 'stall-after', bytes: 2 * MiB });
    const children = [1, 2, 3].map(() => e2e.track(spawnGsync(['pull', '--connections', '1', `via-proxy:${remote}`, local], { env: e2e.sshd.env })));
    const codes = children.map((child) => exited(child).then((code) => ({ child, code })));
    const [first, second] = await new Promise<Array<{ child: ChildProcess; code: number | null }>>((resolve) => {
      const done: Array<{ child: ChildProcess; code: number | null }> = [];
      for (const code of codes) void code.then((result) => (done.push(result) === 2 ? resolve(done) : undefined));
    });
    expect([first?.code, second?.code]).toEqual([75, 75]);
    e2e.proxy.setMode({ kind: 'pass' });
    const holder = children.find((child) => child !== first?.child && child !== second?.child);
    expect(holder && (await exited(holder))).toBe(0);
    expect(await readTree(local)).toEqual(want);
  });

  it('a link that drops mid-transfer ends the run with exit 10 and only complete files in place', async () => {
    const local = join(await e2e.tempDir(), 'mirror');
    e2e.proxy.setMode({ kind: 'drop-after', bytes: 2 * MiB });
    const result = await runGsync(['pull', '--connections', '1', `via-proxy:${remote}`, local], { env: e2e.sshd.env });
    e2e.proxy.setMode({ kind: 'pass' });
    expect(result.code, result.stderr).toBe(10);
    expect(result.stderr).toMatch(/hint: run the same command again/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    await expectOnlyCompleteFiles(local);
  });

  it('status during a run says it is running, and whose it is; once it is killed, that it did not finish', async () => {
    const local = join(await e2e.tempDir(), 'mirror');
    const { child, finished } = await pullUntil(local, 4 * MiB);
    expect(finished).toBe(false);
    const during = await runGsync(['status', local], { env: e2e.sshd.env });
    expect(during.code, during.stderr).toBe(0);
    expect(during.stdout).toMatch(new RegExp(`^#1 .*: running now \\(pid ${child.pid} on \\S+\\),`, 'm'));
    killGroup(child);
    await exited(child);
    const after = await runGsync(['status', local], { env: e2e.sshd.env });
    expect(after.stdout).toMatch(/^#1 .*: unfinished \(killed\?\),/m);
  });

  // SIGHUP: the terminal or SSH session the run was started from went away.
  it.each(['SIGINT', 'SIGHUP'] as const)('%s stops the run with exit 20, keeps what is done, and releases the lock', async (signal) => {
    const local = join(await e2e.tempDir(), 'mirror');
    const { child, finished } = await pullUntil(local, 4 * MiB);
    expect(finished).toBe(false);
    child.kill(signal);
    expect(await exited(child)).toBe(20);
    await expectOnlyCompleteFiles(local);
    await expect(readdir(join(local, '.gsync'))).resolves.not.toContain('lock');
    e2e.proxy.setMode({ kind: 'pass' });
    const status = await runGsync(['status', local], { env: e2e.sshd.env });
    expect(status.stdout).toMatch(/exit 20/);
  });
});
