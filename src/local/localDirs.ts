import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { GsyncError } from '../errors/GsyncError.js';
import type { Destination } from './paths.js';

/** Which directory a path led to when it was checked: renames into it are checked against it. */
interface DirIdentity {
  readonly dev: number;
  readonly ino: number;
}

/**
 * The local directories of this run, each proven a real directory under the destination (every
 * component lstat'ed: none a symlink) when its walk starts, by identity. Node has no renameat:
 * a rename goes by path, so just before entries are renamed into a directory its path is
 * checked to lead to that same directory still. A symlink (or another directory) put in its
 * place meanwhile, by anyone, stops the run instead of being written through.
 */
export class LocalDirs {
  readonly #known = new Map<string, DirIdentity>();

  constructor(private readonly destination: Destination) {}

  /** Checks every component of `dir` (relative; '' is the root) from the root down, and remembers it. */
  async verify(dir: string): Promise<void> {
    const parts = dir === '' ? [] : dir.split('/');
    for (let depth = 0; depth <= parts.length; depth++) {
      const rel = parts.slice(0, depth).join('/');
      const stats = await lstat(this.destination.pathOf(rel)).catch((error: NodeJS.ErrnoException) => {
        throw replaced(this.destination.pathOf(rel), `it cannot be checked (${error.code ?? error.message})`);
      });
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

  #check(dir: string, stats: Stats, known: DirIdentity | undefined): void {
    const path = this.destination.pathOf(dir);
    if (stats.isSymbolicLink()) throw replaced(path, 'a symlink stands there');
    if (!stats.isDirectory()) throw replaced(path, 'it is not a directory');
    if (known && (known.dev !== stats.dev || known.ino !== stats.ino)) throw replaced(path, 'another directory stands there');
  }
}

function replaced(path: string, why: string): GsyncError {
  return new GsyncError('local-path', `the local directory ${path} changed while gsync ran: ${why}; nothing is written through it`, {
    hint: 'something else is writing the destination: stop it, then run the same command again',
  });
}
