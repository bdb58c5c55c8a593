import { openSync, closeSync, readSync, writeSync } from 'node:fs';
import { appendFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, splitBlocks } from '../../src/core/blocks.js';
import { e2eSuite } from '../support/e2eSuite.js';
import { killGroup } from '../support/runProcess.js';
import { runGsync, spawnGsync } from '../support/runGsync.js';
import { dir, file, pseudoRandomBytes, readTree } from '../support/trees.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
/** What one kill may cost in bytes sent again (the budget). */
const BUDGET = 16 * MiB;
/** Kill points: 5 in CI, more by hand (GSYNC_RESUME_KILLS=20). */
const KILLS = Number(process.env.GSYNC_RESUME_KILLS ?? 5);
/** Seeded, and the seed printed, so a failing sequence can be replayed (GSYNC_RESUME_SEED=...). */
const SEED = Number(process.env.GSYNC_RESUME_SEED ?? Math.floor(Math.random() * 2 ** 31));

const e2e = e2eSuite({ prefix: 'gsync-e2e-resume-', proxy: true });

async function bigRemote(): Promise<string> {
  return e2e.remoteTree('big', { 'ckpt.bin': file(SIZE, { mtime: 1_700_000_000 }) });
}

/** mulberry32: a small seeded generator, good enough to pick kill points. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts a pull and SIGKILLs its whole process tree once `bytes` more crossed the proxy; resolves with the bytes this run received. */
async function pullKilledAfter(remote: string, local: string, bytes: number, connections = 1): Promise<number> {
  const before = e2e.proxy.bytesDown;
  const child = spawnGsync(['pull', '--connections', String(connections), `via-proxy:${remote}`, local], { env: e2e.sshd.env });
  e2e.track(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const reached = await Promise.race([e2e.proxy.waitForBytesDown(before + bytes).then(() => true), exited.then(() => false)]);
  expect(reached, 'the run ended before the kill point').toBe(true);
  killGroup(child);
  await exited;
  return e2e.proxy.bytesDown - before;
}

async function pullToEnd(remote: string, local: string, connections = 1): Promise<number> {
  const before = e2e.proxy.bytesDown;
  const result = await runGsync(['pull', '--connections', String(connections), `via-proxy:${remote}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
  expect(result.code, result.stderr).toBe(0);
  return e2e.proxy.bytesDown - before;
}

/** What the state file holds for the partial: its file name and the bytes recorded done. */
function recorded(local: string): { name: string | undefined; bytes: number; blocks: number[] } {
  const db = new Database(join(local, '.gsync', 'state.db'), { readonly: true });
  try {
    const partial = db.prepare('SELECT name, size FROM partials').get() as { name: string; size: number } | undefined;
    const blocks = (db.prepare('SELECT idx FROM blocks ORDER BY idx').all() as Array<{ idx: number }>).map((b) => b.idx);
    const bytes = blocks.reduce((sum, idx) => sum + Math.min(BLOCK_SIZE, (partial?.size ?? 0) - idx * BLOCK_SIZE), 0);
    return { name: partial?.name, bytes, blocks };
  } finally {
    db.close();
  }
}

describe('block-level resume', () => {
  // The budget is per kill, whatever the worker count: three workers fetch parts of the file at once.
  it.each([1, 3])(`after each of ${KILLS} SIGKILLs at random points the same command goes on, re-sending at most 16 MiB per kill (%i connections)`, async (connections) => {
    console.log(`resume kill points, ${connections} connections: seed ${SEED} (GSYNC_RESUME_SEED=${SEED} replays them)`);
    const next = random(SEED);
    const remote = await bigRemote();
    const local = join(await e2e.tempDir(), 'out');
    let done = 0;
    const resentMiB: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      // Somewhere in the next stretch, so that every kill still leaves work for the next run.
      const at = Math.floor((1 + next() * 30) * MiB);
      const received = await pullKilledAfter(remote, local, at, connections);
      const now = recorded(local).bytes;
      const resent = received - (now - done);
      expect(resent, `kill ${kill + 1} at ${at} bytes: received ${received}, recorded ${now - done} more`).toBeLessThanOrEqual(BUDGET);
      expect(now).toBeGreaterThanOrEqual(done);
      resentMiB.push((resent / MiB).toFixed(1));
      done = now;
    }
    console.log(`re-sent per kill, ${connections} connections (MiB): ${resentMiB.join(', ')}`);
    const last = await pullToEnd(remote, local, connections);
    expect(last - (SIZE - done)).toBeLessThanOrEqual(BUDGET);
    expect(await readTree(local)).toStrictEqual(await readTree(remote));
    expect(await readdir(join(local, '.gsync', 'partial'))).toStrictEqual([]);
    expect(recorded(local)).toStrictEqual({ name: undefined, bytes: 0, blocks: [] });
  });

  it('fetches again a recorded block whose bytes were changed in the partial', async () => {
    const remote = await bigRemote();
    const local = join(await e2e.tempDir(), 'out');
    await pullKilledAfter(remote, local, 48 * MiB);
    const { name, bytes, blocks } = recorded(local);
    expect(name).toBeDefined();
    expect(blocks).toContain(0);
    // gsync status lists the partial with how much of it is done.
    const status = await runGsync(['status', '--json', local], { env: e2e.sshd.env });
    expect(status.code, status.stderr).toBe(0);
    const percent = Math.floor((bytes / SIZE) * 100);
    expect((JSON.parse(status.stdout) as { partials: unknown }).partials).toStrictEqual([{ path: 'ckpt.bin', size: SIZE, bytesDone: bytes, percent }]);
    const text = await runGsync(['status', local], { env: e2e.sshd.env });
    expect(text.stdout).toContain(`ckpt.bin: ${percent}% of 256.0 MiB`);
    // Flip one byte of block 0, as a torn write or bit rot would.
    const fd = openSync(join(local, '.gsync', 'partial', name ?? ''), 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, 1234);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    writeSync(fd, byte, 0, 1, 1234);
    closeSync(fd);
    const received = await pullToEnd(remote, local);
    // Everything not recorded, and block 0 again.
    expect(received).toBeGreaterThanOrEqual(SIZE - bytes + BLOCK_SIZE);
    expect(await readTree(local)).toStrictEqual(await readTree(remote));
  });

  it('throws the partial away when the remote file was rewritten between runs', async () => {
    const remote = await bigRemote();
    const local = join(await e2e.tempDir(), 'out');
    await pullKilledAfter(remote, local, 40 * MiB);
    const old = recorded(local);
    expect(old.blocks.length).toBeGreaterThan(0);
    const path = join(remote, 'ckpt.bin');
    await writeFile(path, pseudoRandomBytes('rewritten', SIZE));
    await utimes(path, 1_700_000_500, 1_700_000_500);
    const received = await pullToEnd(remote, local);
    expect(received).toBeGreaterThanOrEqual(SIZE);
    expect(await readTree(local)).toStrictEqual(await readTree(remote));
    expect(await readdir(join(local, '.gsync', 'partial'))).toStrictEqual([]);
  });
});

describe('one file over several connections', () => {
  it('cuts a big file into parts for three workers, and after a kill the next run completes it', async () => {
    const remote = await bigRemote();
    const local = join(await e2e.tempDir(), 'out');
    const connectionsBefore = e2e.proxy.connections;
    const before = e2e.proxy.bytesDown;
    const child = spawnGsync(['pull', '--connections', '3', `via-proxy:${remote}`, local], { env: e2e.sshd.env });
    e2e.track(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await e2e.proxy.waitForBytesDown(before + 96 * MiB);
    killGroup(child);
    await exited;
    // The main connection and three workers, all carrying blocks of the one file.
    expect(e2e.proxy.connections - connectionsBefore).toBe(4);
    const { blocks } = recorded(local);
    const spans = splitBlocks(SIZE / BLOCK_SIZE, 3);
    const parts = new Set(blocks.map((index) => spans.findIndex((span) => index >= span.first && index < span.end)));
    expect([...parts].sort()).toStrictEqual([0, 1, 2]);
    const result = await runGsync(['pull', '--connections', '3', `via-proxy:${remote}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(await readTree(local)).toStrictEqual(await readTree(remote));
  });
});

describe('within one run', () => {
  it('rides out a link that drops every 64 MiB: reconnects, goes on, exit 0', async () => {
    const remote = await bigRemote();
    const local = join(await e2e.tempDir(), 'out');
    e2e.proxy.setMode({ kind: 'drop-after', bytes: 64 * MiB });
    const connectionsBefore = e2e.proxy.connections;
    const result = await runGsync(['pull', '--connections', '1', `via-proxy:${remote}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(await readTree(local)).toStrictEqual(await readTree(remote));
    const retries = result.stderr.split('\n').filter((line) => line.includes('trying again in'));
    expect(retries.length, result.stderr).toBeGreaterThanOrEqual(3);
    // The main connection, the worker's first, and one more per drop.
    expect(e2e.proxy.connections - connectionsBefore).toBeGreaterThanOrEqual(2 + retries.length);
  });

  it('opens the listing connection again when it drops, and lists on', async () => {
    const spec = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`d${i}`, dir({ 'x.txt': file(`file ${i}\n`) })]));
    const root = await e2e.remoteTree('many', spec);
    const local = join(await e2e.tempDir(), 'out');
    e2e.proxy.setMode({ kind: 'drop-after', bytes: 16 * 1024 });
    // SFTP's listing, a directory at a time (--no-tar): the one-stream listing of this tree is too
    // few bytes for the fault to land in; a stream cut or stalled is the malicious suite's (tree.test.ts).
    const result = await runGsync(['pull', '--no-tar', '--connections', '1', `via-proxy:${root}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/listing again in/);
    expect(await readTree(local)).toStrictEqual(await readTree(root));
  });

  it('a stalled link is noticed within --timeout + 5 s and, retries spent, ends with exit 30', async () => {
    const remote = await bigRemote();
    const local = join(await e2e.tempDir(), 'out');
    e2e.proxy.setMode({ kind: 'stall-after', bytes: 32 * MiB });
    const before = e2e.proxy.bytesDown;
    const child = spawnGsync(['pull', '--connections', '1', '--timeout', '2', '--retries', '0', `via-proxy:${remote}`, local], { env: e2e.sshd.env });
    e2e.track(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await e2e.proxy.waitForBytesDown(before + 32 * MiB);
    const stalledAt = Date.now();
    expect(await exited).toBe(30);
    expect(Date.now() - stalledAt).toBeLessThanOrEqual(7_000);
    expect(stderr).toMatch(/no data from via-proxy for 2 s: the link stalled/);
    // What was recorded before the stall is kept for the next run.
    expect(recorded(local).bytes).toBeGreaterThan(0);
  });

  it('recovers from stalls by itself while each new connection moves the file forward', async () => {
    const remote = await bigRemote();
    const local = join(await e2e.tempDir(), 'out');
    e2e.proxy.setMode({ kind: 'stall-after', bytes: 100 * MiB });
    const result = await runGsync(['pull', '--connections', '1', '--timeout', '2', '--retries', '2', `via-proxy:${remote}`, local], {
      env: e2e.sshd.env,
      timeoutMs: 120_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/the link stalled; trying again in/);
    expect(await readTree(local)).toStrictEqual(await readTree(remote));
  });

  it('a listing that stalls is cut off after --timeout and listed again over a new connection', async () => {
    const spec = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`d${i}`, dir({ 'x.txt': file(`file ${i}\n`) })]));
    const root = await e2e.remoteTree('many-stalled', spec);
    const local = join(await e2e.tempDir(), 'out');
    e2e.proxy.setMode({ kind: 'stall-after', bytes: 24 * 1024 });
    const connectionsBefore = e2e.proxy.connections;
    // SFTP's listing, as above (--no-tar).
    const result = await runGsync(['pull', '--no-tar', '--connections', '1', '--timeout', '1', `via-proxy:${root}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/while listing .*: the link stalled; listing again in/);
    expect(await readTree(local)).toStrictEqual(await readTree(root));
    expect(e2e.proxy.connections - connectionsBefore).toBeGreaterThanOrEqual(3);
  });
});

describe('a re-run with little to fetch', () => {
  async function mirrored(): Promise<{ root: string; local: string }> {
    const root = await e2e.remoteTree('changed', { 'a.txt': file('a\n'), logs: dir({ 'old.log': file(3000) }) });
    const local = join(await e2e.tempDir(), 'out');
    await pullToEnd(root, local);
    return { root, local };
  }

  it('fetches it over its one connection while no worker logs in', async () => {
    const { root, local } = await mirrored();
    await writeFile(join(root, 'logs', 'new.log'), pseudoRandomBytes('new log', 200_000));
    await writeFile(join(root, 'ckpt.bin'), pseudoRandomBytes('new ckpt', 12 * MiB));
    const connectionsBefore = e2e.proxy.connections;
    await pullToEnd(root, local);
    expect(await readTree(local)).toStrictEqual(await readTree(root));
    expect(e2e.proxy.connections - connectionsBefore).toBe(1);
  });

  it('goes on over a new connection when that one stalls under a file', async () => {
    const { root, local } = await mirrored();
    await writeFile(join(root, 'ckpt.bin'), pseudoRandomBytes('stalled ckpt', 12 * MiB));
    // Each connection brings 6 MiB: the login, the listing and a block or so of the file.
    e2e.proxy.setMode({ kind: 'stall-after', bytes: 6 * MiB });
    const connectionsBefore = e2e.proxy.connections;
    const result = await runGsync(['pull', '--connections', '1', '--timeout', '1', `via-proxy:${root}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/ckpt\.bin: no data from via-proxy for 1 s: the link stalled; trying again in/);
    expect(await readTree(local)).toStrictEqual(await readTree(root));
    expect(e2e.proxy.connections - connectionsBefore).toBeGreaterThanOrEqual(2);
  });
});

describe('a first pull the first connection can carry', () => {
  it('starts no worker: 1,500 small files come as tar over the one connection that listed them', async () => {
    const tree = Object.fromEntries(
      Array.from({ length: 15 }, (_, d) => [`d${d}`, dir(Object.fromEntries(Array.from({ length: 100 }, (_, f) => [`f${f}.txt`, file(1000 + ((d * 100 + f) % 3000))])))]),
    );
    const root = await e2e.remoteTree('first-small', tree);
    const local = join(await e2e.tempDir(), 'out');
    const connectionsBefore = e2e.proxy.connections;
    const result = await runGsync(['pull', '--json', `via-proxy:${root}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    const transfers = result.stdout
      .split('\n')
      .filter((line) => line.includes('"event":"file"'))
      .map((line) => (JSON.parse(line) as { transfer: string }).transfer);
    expect(transfers).toStrictEqual(Array.from({ length: 1500 }, () => 'tar'));
    expect(await readTree(local)).toStrictEqual(await readTree(root));
    expect(e2e.proxy.connections - connectionsBefore).toBe(1);
  });

  it('starts no worker for a single file: its blocks come over the one connection that found it', async () => {
    const root = await e2e.remoteTree('first-single', { 'model.pt': file(24 * MiB) });
    const local = await e2e.tempDir();
    const connectionsBefore = e2e.proxy.connections;
    const result = await runGsync(['pull', `via-proxy:${join(root, 'model.pt')}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect((await readTree(local)).get('model.pt')).toStrictEqual((await readTree(root)).get('model.pt'));
    expect(e2e.proxy.connections - connectionsBefore).toBe(1);
  });
});

describe('--append', () => {
  it('extends a file that only grew: fetches the new bytes and the last old block, nothing else', async () => {
    const root = await e2e.remoteTree('grow', { 'train.log': file(64 * MiB + 12_345, { mtime: 1_700_000_000 }) });
    const local = join(await e2e.tempDir(), 'out');
    await pullToEnd(root, local);
    const path = join(root, 'train.log');
    const added = pseudoRandomBytes('appended', 20 * MiB);
    await appendFile(path, added);
    await utimes(path, 1_700_000_900, 1_700_000_900);
    const before = e2e.proxy.bytesDown;
    const result = await runGsync(['pull', '--append', '--connections', '1', `via-proxy:${root}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    const received = e2e.proxy.bytesDown - before;
    expect(received).toBeGreaterThanOrEqual(added.length);
    expect(received).toBeLessThanOrEqual(added.length + BLOCK_SIZE + MiB);
    expect(await readTree(local)).toStrictEqual(await readTree(root));
  });
});
