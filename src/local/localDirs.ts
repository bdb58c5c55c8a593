import { constants, lstatSync, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parentOf } from '../core/names.js';
import { GsyncError } from '../errors/GsyncError.js';
import type { Destination } from './paths.js';

/** Which directory a path led to when it was checked: renames into it are checked against it. */
interface DirIdentity {
  readonly dev: number;
  readonly ino: number;
}

/**
 * The local directories of this run, each proven a real directory under the destination (every
 * component lstat'ed: none a symlink) when its walk starts, by identity. Before entries are
 * renamed into a directory, it is opened without following a symlink and checked to be that same
 * directory still: a symlink (or another directory) put in its place, by anyone, stops the run
 * instead of being written through. Node has no renameat, so the renames then go through the
 * open directory (`/proc/self/fd/N/name`), not its path: a swap after the check cannot redirect
 * them. Without /proc they go by path, checked just before.
 */
export class LocalDirs {
  readonly #known = new Map<string, DirIdentity>();

  constructor(private readonly destination: Destination) {}

  /**
   * Checks every component of `dir` (relative; '' is the root) from the root down, and remembers
   * it. Synchronously: a lstat from the dentry cache takes microseconds, its promise through
   * libuv ~20 µs of this thread (a no-op walk of 200 directories checks ~900 components).
   */
  async verify(dir: string): Promise<void> {
    const parts = dir === '' ? [] : dir.split('/');
    for (let depth = 0; depth <= parts.length; depth++) {
      const rel = parts.slice(0, depth).join('/');
      const stats = lstatNow(this.destination.pathOf(rel));
      const known = this.#known.get(rel);
      this.#check(rel, stats, known);
      if (!known) this.#known.set(rel, { dev: stats.dev, ino: stats.ino });
    }
  }

  /** Before renames into these directories: each must still be the one verify() saw. */
  async recheck(dirs: Iterable<string>): Promise<void> {
    await Promise.all(
      [...new Set(dirs)].map(async (dir) => {
        const known = this.#known.get(dir);
        if (!known) throw new Error(`LocalDirs: ${JSON.stringify(dir)} was never verified`);
        const stats = await lstat(this.destination.pathOf(dir)).catch((error: NodeJS.ErrnoException) => {
          throw replaced(this.destination.pathOf(dir), `it is gone (${error.code ?? error.message})`);
        });
        this.#check(dir, stats, known);
      }),
    );
  }

  /**
   * Opens these directories for a group of renames or removals, each checked to be the one
   * verify() saw. Close the result when the group is done.
   */
  async hold(dirs: Iterable<string>): Promise<HeldDirs> {
    if (!(await procFdWorks())) {
      const unique = [...new Set(dirs)];
      await this.recheck(unique);
      return new HeldDirs(this.destination, new Map(unique.map((dir) => [dir, undefined])));
    }
    const held = new Map<string, FileHandle | undefined>();
    const opening = [...new Set(dirs)].map(async (dir) => held.set(dir, await this.#open(dir)));
    const outcomes = await Promise.allSettled(opening);
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      await new HeldDirs(this.destination, held).close();
      throw failed.reason;
    }
    return new HeldDirs(this.destination, held);
  }

  async #open(dir: string): Promise<FileHandle> {
    const known = this.#known.get(dir);
    if (!known) throw new Error(`LocalDirs: ${JSON.stringify(dir)} was never verified`);
    const path = this.destination.pathOf(dir);
    const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch(async (error: NodeJS.ErrnoException) => {
      // O_NOFOLLOW with O_DIRECTORY fails ENOTDIR on a symlink: say which it is.
      const stats = await lstat(path).catch(() => undefined);
      if (stats) this.#check(dir, stats, known);
      throw replaced(path, `it cannot be opened (${error.code ?? error.message})`);
    });
    try {
      this.#check(dir, await handle.stat(), known);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return handle;
  }

  #check(dir: string, stats: Stats, known: DirIdentity | undefined): void {
    const path = this.destination.pathOf(dir);
    if (stats.isSymbolicLink()) throw replaced(path, 'a symlink stands there');
    if (!stats.isDirectory()) throw replaced(path, 'it is not a directory');
    if (known && (known.dev !== stats.dev || known.ino !== stats.ino)) throw replaced(path, 'another directory stands there');
  }
}

function lstatNow(path: string): Stats {
  let stats: Stats | undefined;
  try {
    stats = lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw replaced(path, `it cannot be checked (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!stats) throw replaced(path, 'it cannot be checked (ENOENT)');
  return stats;
}

function replaced(path: string, why: string): GsyncError {
  return new GsyncError('local-path', `the local directory ${path} changed while gsync ran: ${why}; nothing is written through it`, {
    hint: 'something else is writing the destination: stop it, then run the same command again',
  });
}

/** Directories held open for one group: paths inside them that no later swap can redirect. */
export class HeldDirs {
  constructor(
    private readonly destination: Destination,
    private readonly handles: ReadonlyMap<string, FileHandle | undefined>,
  ) {}

  /** The path of `rel` (relative to the destination), through its held parent. */
  pathOf(rel: string): string {
    // Built by Destination first: it refuses any name that could leave the destination.
    const path = this.destination.pathOf(rel);
    const handle = this.handles.get(parentOf(rel));
    return handle ? `/proc/self/fd/${handle.fd}/${basename(path)}` : path;
  }

  /** Fsyncs the held directory `dir` (made durable: the renames into it). */
  async sync(dir: string): Promise<void> {
    const handle = this.handles.get(dir);
    if (handle) return handle.sync();
    const opened = await open(this.destination.pathOf(dir), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      await opened.sync();
    } finally {
      await opened.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.values()].map((handle) => handle?.close()));
  }
}

let procFd: Promise<boolean> | undefined;

function procFdWorks(): Promise<boolean> {
  procFd ??= stat('/proc/self/fd').then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  return procFd;
}
