import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GsyncError } from '../../src/errors/GsyncError.js';
import { acquireLock } from '../../src/local/lock.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gsync-lock-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited and been reaped: nobody holds it (barring reuse). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn gave no pid');
  await new Promise<void>((resolve, reject) => {
    child.once('exit', () => resolve());
    child.once('error', reject);
  });
  return pid;
}

async function lockError(stateDir: string): Promise<GsyncError> {
  try {
    const lock = await acquireLock(stateDir);
    await lock.release();
  } catch (error) {
    expect(error).toBeInstanceOf(GsyncError);
    return error as GsyncError;
  }
  throw new Error('acquireLock succeeded but should have been refused');
}

function writeLock(owner: unknown): void {
  writeFileSync(join(dir, 'lock'), typeof owner === 'string' ? owner : JSON.stringify(owner));
}

describe('acquireLock: one run per destination', () => {
  it('a second acquire while held is refused, naming the pid and host', async () => {
    const held = await acquireLock(dir);
    const error = await lockError(dir);
    expect(error.kind).toBe('locked');
    expect(error.exitCode).toBe(75);
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message).toContain(hostname());
    expect(error.hint).toContain(join(dir, 'lock'));
    await held.release();
  });

  it('the lock file says who holds it, and no private temp file is left behind', async () => {
    const held = await acquireLock(dir);
    const owner = JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as Record<string, unknown>;
    expect(owner.pid).toBe(process.pid);
    expect(owner.host).toBe(hostname());
    expect(typeof owner.startedAt).toBe('string');
    expect(readdirSync(dir)).toStrictEqual(['lock']);
    await held.release();
    expect(readdirSync(dir)).toStrictEqual([]);
  });

  it('after release it can be taken again, many times', async () => {
    for (let round = 0; round < 3; round++) {
      const lock = await acquireLock(dir);
      await lock.release();
    }
    const again = await acquireLock(dir);
    await expect(lockError(dir)).resolves.toMatchObject({ kind: 'locked' });
    await again.release();
  });

  it('a refused acquire does not disturb the holder', async () => {
    const held = await acquireLock(dir);
    const before = readFileSync(join(dir, 'lock'), 'utf8');
    await lockError(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(before);
    expect(readdirSync(dir)).toStrictEqual(['lock']);
    await held.release();
  });

  const takeovers: Array<{ description: string; owner: () => Promise<unknown> }> = [
    { description: 'a dead pid on this host', owner: async () => ({ pid: await deadPid(), host: hostname(), startedAt: '2024-01-01T00:00:00.000Z' }) },
    { description: 'an unreadable lock file', owner: async () => 'not json {' },
    { description: 'a lock file without a pid', owner: async () => ({ host: hostname() }) },
  ];
  it.each(takeovers)('a stale lock is taken over: $description', async ({ owner }) => {
    writeLock(await owner());
    const lock = await acquireLock(dir);
    const now = JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as Record<string, unknown>;
    expect(now.pid).toBe(process.pid);
    expect(now.host).toBe(hostname());
    await lock.release();
  });

  const held: Array<{ description: string; owner: () => Promise<{ pid: number; host: string }> }> = [
    { description: 'a live pid on this host (the test runner itself)', owner: async () => ({ pid: process.pid, host: hostname() }) },
    { description: 'a live pid on another host', owner: async () => ({ pid: process.pid, host: `not-${hostname()}` }) },
    // A pid on another host cannot be checked from here, so it is never taken over.
    { description: 'a dead pid on another host', owner: async () => ({ pid: await deadPid(), host: `other-${hostname()}.example` }) },
  ];
  it.each(held)('a lock held by $description is never taken over', async ({ owner }) => {
    const { pid, host } = await owner();
    writeLock({ pid, host, startedAt: '2024-01-01T00:00:00.000Z' });
    const before = readFileSync(join(dir, 'lock'), 'utf8');
    const error = await lockError(dir);
    expect(error.kind).toBe('locked');
    expect(error.message).toContain(`pid ${pid}`);
    expect(error.message).toContain(host);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(before);
  });
});
