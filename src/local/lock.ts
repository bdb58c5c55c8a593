import { lstatSync, readFileSync } from 'node:fs';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { localIoError } from '../errors/classify.js';
import { GsyncError } from '../errors/GsyncError.js';

/** Who holds a destination: written into `.gsync/lock` so a second run can say so. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

export interface RunLock {
  release(): Promise<void>;
}

/**
 * One run per destination. The lock is written whole to a private file and then hard-linked into
 * place, which fails if a lock exists, so nobody ever reads a half-written one. A lock left by a
 * process that is gone (same host, pid not alive) is taken over: a kill -9 never wedges the next run.
 */
export async function acquireLock(stateDir: string): Promise<RunLock> {
  const file = join(stateDir, 'lock');
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const mine = `${file}.${process.pid}`;
  try {
    // A full or read-only disk fails here first: said as such, not as a bug, and nothing left behind.
    await writeFile(mine, JSON.stringify(me), { mode: 0o644 }).catch((error: unknown) => {
      throw localIoError(error, `cannot write the lock file ${file}`);
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await linkExclusive(mine, file)) return { release: () => unlink(file).catch(() => undefined) };
      const owner = await readOwner(file);
      if (owner && isAlive(owner)) {
        throw new GsyncError(
          'locked',
          `another gsync run (pid ${owner.pid} on ${owner.host}, started ${owner.startedAt}) is using this destination`,
          { hint: `wait for it to finish, or if that process is gone remove ${file}` },
        );
      }
      await unlink(file).catch(() => undefined);
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  throw new GsyncError('locked', `could not take the lock ${file}`, { hint: 'another run keeps racing for it; try again' });
}

/** The live process holding this destination's lock (a run going on now), if any. Never blocks on a FIFO there. */
export function lockHolder(stateDir: string): LockOwner | undefined {
  const file = join(stateDir, 'lock');
  try {
    if (!lstatSync(file).isFile()) return undefined;
    const owner = ownerOf(readFileSync(file, 'utf8'));
    return owner && isAlive(owner) ? owner : undefined;
  } catch {
    return undefined;
  }
}

async function linkExclusive(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw localIoError(error, `cannot take the lock ${to}`);
  }
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  // Unreadable (disk trouble): nobody can be proven to hold it.
  return ownerOf(await readFile(file, 'utf8').catch(() => ''));
}

function ownerOf(text: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, host: parsed.host, startedAt: String(parsed.startedAt) };
  } catch {
    // Edited by hand, or empty: nobody can be proven to hold it.
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  // A lock from another host cannot be checked from here: assume it is held.
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
