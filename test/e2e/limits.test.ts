import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE } from '../../src/core/blocks.js';
import { e2eSuite } from '../support/e2eSuite.js';
import { runGsync } from '../support/runGsync.js';
import { dir, file, readTree } from '../support/trees.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** What the SSH and SFTP framing adds to a transfer's bytes on the wire, with room to spare. */
const WIRE_OVERHEAD = MiB;

const e2e = e2eSuite({ prefix: 'gsync-e2e-limits-', proxy: true });

interface StatusJson {
  runs: Array<{ exitCode: number | null; message: string | null }>;
  partials: Array<{ path: string; size: number; bytesDone: number }>;
}

async function statusOf(local: string): Promise<StatusJson> {
  const result = await runGsync(['status', '--json', local], { env: e2e.sshd.env });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

/** A pull through the counting proxy: its result, the bytes that came down and the wall time it took. */
async function measuredPull(args: string[], remote: string, local: string): Promise<{ code: number | null; stdout: string; stderr: string; bytes: number; seconds: number }> {
  const before = e2e.proxy.bytesDown;
  const started = performance.now();
  const result = await runGsync(['pull', ...args, `via-proxy:${remote}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
  return { ...result, bytes: e2e.proxy.bytesDown - before, seconds: (performance.now() - started) / 1000 };
}

describe('--bwlimit and --max-duration', () => {
  it('--bwlimit 2M holds two connections together to 2 MiB/s, and the copy is whole', async () => {
    // Two directories are pulled at once, each file by its own worker over its own connection: with
    // a budget per worker instead of one for the run, this ran at 3.1 MiB/s by its own summary.
    const remote = await e2e.remoteTree('limited', {
      a: dir({ 'ckpt.bin': file(4 * MiB) }),
      b: dir({ 'ckpt.bin': file(4 * MiB), logs: dir(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`log-${i}.txt`, file(16 * KiB + i)]))) }),
    });
    const local = join(await e2e.tempDir(), 'mirror');
    const connectionsBefore = e2e.proxy.connections;
    const run = await measuredPull(['--bwlimit', '2M', '--connections', '2'], remote, local);
    expect(run.code, run.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
    // The listing's connection and both workers' own.
    expect(e2e.proxy.connections - connectionsBefore).toBeGreaterThanOrEqual(3);

    const limit = 2 * MiB;
    // The wall time counts start-up and the handshake too, and a slow machine only makes the run
    // slower: the margin covers the framing on the wire and can never fail for want of speed.
    const wireRate = run.bytes / run.seconds;
    const summaryRate = /\(([\d.]+) MiB\/s\)$/m.exec(run.stdout)?.[1];
    console.log(`--bwlimit 2M: ${(run.bytes / MiB).toFixed(2)} MiB on the wire in ${run.seconds.toFixed(2)} s = ${(wireRate / MiB).toFixed(2)} MiB/s; the summary says ${summaryRate} MiB/s`);
    expect(run.bytes).toBeGreaterThan(8 * MiB);
    expect(wireRate).toBeLessThanOrEqual(1.3 * limit);
    expect(Number(summaryRate) * MiB).toBeLessThanOrEqual(1.3 * limit);
  });

  it('--max-duration 2s stops a pull that cannot finish in time with exit 30, keeps its partial, and the same command then finishes it', async () => {
    const size = 32 * MiB;
    const remote = await e2e.remoteTree('timed', { 'ckpt.bin': file(size), 'config.json': file('{}') });
    const local = join(await e2e.tempDir(), 'mirror');

    // At 4 MiB/s the file needs 8 s: the limit comes first.
    const stopped = await measuredPull(['--bwlimit', '4M', '--max-duration', '2s', '--connections', '1'], remote, local);
    console.log(`--max-duration 2s: exit ${stopped.code} after ${stopped.seconds.toFixed(2)} s, ${(stopped.bytes / MiB).toFixed(2)} MiB received`);
    expect(stopped.code, stopped.stderr).toBe(30);
    expect(stopped.stderr).toMatch(/the time limit was reached \(--max-duration 2s\)/);
    expect(stopped.stderr).toMatch(/hint: run the same command again to continue/);
    expect(stopped.stderr).not.toMatch(/^\s+at /m);
    expect(stopped.seconds).toBeLessThan(30);
    expect(await readdir(join(local, '.gsync'))).not.toContain('lock');
    expect(await readdir(join(local, '.gsync', 'partial'))).toHaveLength(1);
    expect((await readTree(local)).has('ckpt.bin')).toBe(false);

    const status = await runGsync(['status', local], { env: e2e.sshd.env });
    expect(status.stdout).toMatch(/exit 30/);
    expect(status.stdout).toMatch(/time limit was reached/);
    expect(status.stdout).toMatch(/partial files \(the next run resumes them\):\n\s+ckpt\.bin: \d+% of 32\.0 MiB/);
    const { partials } = await statusOf(local);
    const kept = partials[0]?.bytesDone ?? 0;

    const resumed = await measuredPull([], remote, local);
    console.log(`resumed: ${(resumed.bytes / MiB).toFixed(2)} MiB received; ${(kept / MiB).toFixed(0)} MiB were recorded before the stop`);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await readTree(local)).toEqual(await readTree(remote));
    expect(await readdir(join(local, '.gsync', 'partial'))).toEqual([]);
    // The recorded blocks are not fetched again, and both runs together fetched the file about once:
    // a stop costs at most the one block in flight.
    expect(resumed.bytes).toBeLessThanOrEqual(size - kept + WIRE_OVERHEAD);
    expect(stopped.bytes + resumed.bytes).toBeLessThanOrEqual(size + BLOCK_SIZE + 2 * WIRE_OVERHEAD);
  });

  it('refuses a rate or a duration it cannot read with exit 1, saying what would work', async () => {
    const local = join(await e2e.tempDir(), 'mirror');
    const rate = await runGsync(['pull', '--bwlimit', '20X', `${e2e.sshd.alias}:/nonexistent`, local], { env: e2e.sshd.env });
    expect(rate.code).toBe(1);
    expect(rate.stderr).toMatch(/--bwlimit 20X: not a rate such as 500K, 20M or 1\.5G/);
    expect(rate.stderr).toMatch(/hint: give --bwlimit a rate/);
    const duration = await runGsync(['pull', '--max-duration', '5x', `${e2e.sshd.alias}:/nonexistent`, local], { env: e2e.sshd.env });
    expect(duration.code).toBe(1);
    expect(duration.stderr).toMatch(/--max-duration 5x: not a duration such as 90s, 15m, 2h or 1d/);
    expect(duration.stderr).toMatch(/hint: give --max-duration a duration/);
    const zero = await runGsync(['pull', '--max-duration', '0', `${e2e.sshd.alias}:/nonexistent`, local], { env: e2e.sshd.env });
    expect(zero.code).toBe(1);
    expect(zero.stderr).toMatch(/--max-duration 0: would stop the run before it starts/);
    await expect(readdir(local)).rejects.toThrow();
  });
});
