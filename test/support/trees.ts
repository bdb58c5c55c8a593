import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lchown, lstat, mkdir, open, readdir, readlink, symlink as fsSymlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileSeed, pseudoRandomChunks } from './pseudoRandom.js';
import type { TestUser } from './testUser.js';

export { pseudoRandomBytes, fileSeed } from './pseudoRandom.js';

/** A directory's entries by name (a single path component: no '/', not '.' or '..'). */
export type TreeSpec = { [name: string]: EntrySpec };
export type EntrySpec = FileSpec | DirSpec | LinkSpec;

type Mtime = Date | number;
interface Attributes {
  /** Permission bits; default 0644 for files, 0755 for dirs, whatever the umask. */
  readonly mode?: number | undefined;
  /** A Date or seconds since the epoch; default: left as written. */
  readonly mtime?: Mtime | undefined;
}
export interface FileSpec extends Attributes {
  readonly kind: 'file';
  readonly content: number | string | Buffer;
}
export interface DirSpec extends Attributes {
  readonly kind: 'dir';
  readonly entries: TreeSpec;
}
export interface LinkSpec {
  readonly kind: 'symlink';
  readonly target: string;
}

/**
 * A file. A number means that many pseudo-random bytes seeded by the file's name and size
 * (fileSeed), so they are incompressible and reproducible: `file(1024)` named `a.bin` holds
 * `pseudoRandomBytes(fileSeed('a.bin', 1024), 1024)` wherever it is written.
 */
export function file(content: number | string | Buffer, options: { mode?: number; mtime?: Mtime } = {}): FileSpec {
  return { kind: 'file', content, mode: options.mode, mtime: options.mtime };
}

export function dir(entries: TreeSpec, options: { mode?: number; mtime?: Mtime } = {}): DirSpec {
  return { kind: 'dir', entries, mode: options.mode, mtime: options.mtime };
}

export function symlink(target: string): LinkSpec {
  return { kind: 'symlink', target };
}

/**
 * Writes the tree under root (creating root), applies modes and mtimes (dirs' mtimes last,
 * deepest first, so writing children doesn't disturb them), chowns everything it creates to
 * `owner` when given and running as root. Order matters: chown before chmod (a chown by root
 * clears setuid/setgid bits), and contents before modes (a mode-000 dir would shut out a
 * non-root writer).
 */
export async function writeTree(root: string, spec: TreeSpec, options: { owner?: TestUser } = {}): Promise<void> {
  const firstCreated = await mkdir(root, { recursive: true });
  const created: string[] = [];
  for (let path = root; firstCreated !== undefined; path = dirname(path)) {
    created.push(path);
    if (path === firstCreated || path === dirname(path)) break;
  }
  const files: [string, FileSpec][] = [];
  const dirs: [string, DirSpec][] = [];
  const write = async (parent: string, entries: TreeSpec): Promise<void> => {
    for (const [name, entry] of Object.entries(entries)) {
      if (name === '' || name === '.' || name === '..' || name.includes('/')) {
        throw new Error(`tree entry name must be one path component, got ${JSON.stringify(name)}`);
      }
      const path = join(parent, name);
      created.push(path);
      if (entry.kind === 'file') {
        await writeContent(path, name, entry.content);
        files.push([path, entry]);
      } else if (entry.kind === 'dir') {
        await mkdir(path, { recursive: true });
        await write(path, entry.entries);
        dirs.push([path, entry]);
      } else {
        await fsSymlink(entry.target, path);
      }
    }
  };
  await write(root, spec);

  if (options.owner !== undefined && process.getuid?.() === 0) {
    for (const path of created) await lchown(path, options.owner.uid, options.owner.gid);
  }
  for (const [path, entry] of files) await applyAttributes(path, entry, 0o644);
  // Children were pushed after their parent's recursion finished, so `dirs` is already
  // deepest-first: each dir is finished before its parent's mode or mtime is set.
  for (const [path, entry] of dirs) await applyAttributes(path, entry, 0o755);
}

async function writeContent(path: string, name: string, content: number | string | Buffer): Promise<void> {
  if (typeof content !== 'number') {
    await writeFile(path, content);
    return;
  }
  const handle = await open(path, 'w');
  try {
    for (const chunk of pseudoRandomChunks(fileSeed(name, content), content)) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}

async function applyAttributes(path: string, entry: Attributes, defaultMode: number): Promise<void> {
  await chmod(path, entry.mode ?? defaultMode);
  if (entry.mtime !== undefined) {
    const time = entry.mtime instanceof Date ? entry.mtime : new Date(entry.mtime * 1000);
    await utimes(path, time, time);
  }
}

/** What readTree reports for one path. */
export interface TreeEntry {
  kind: 'file' | 'dir' | 'symlink';
  /** Permission bits, & 0o7777 (0o777 for every symlink on Linux). */
  mode: number;
  /** Whole seconds (floored). */
  mtime: number;
  /** Files only. */
  size?: number;
  /** Files only: hex digest of the content, or 'unreadable' when the caller may not read it. */
  sha256?: string;
  /** Symlinks only. */
  target?: string;
}

/**
 * Walks root (lstat, never follows symlinks), skipping any top-level `.gsync`, into a map of
 * relative posix path → TreeEntry sorted by path (code-unit order). Root itself is not an entry.
 * Other kinds (fifos, sockets) throw: no test should meet one unannounced.
 */
export async function readTree(root: string): Promise<Map<string, TreeEntry>> {
  const found: [string, TreeEntry][] = [];
  const walk = async (path: string): Promise<void> => {
    for (const name of await readdir(path)) {
      if (path === root && name === '.gsync') continue;
      const full = join(path, name);
      const rel = relative(root, full).split('\\').join('/');
      const stat = await lstat(full);
      const base = { mode: stat.mode & 0o7777, mtime: Math.floor(stat.mtimeMs / 1000) };
      if (stat.isSymbolicLink()) {
        found.push([rel, { kind: 'symlink', ...base, target: await readlink(full) }]);
      } else if (stat.isDirectory()) {
        found.push([rel, { kind: 'dir', ...base }]);
        await walk(full);
      } else if (stat.isFile()) {
        found.push([rel, { kind: 'file', ...base, size: stat.size, sha256: await sha256File(full) }]);
      } else {
        throw new Error(`readTree: ${full} is neither file, dir nor symlink`);
      }
    }
  };
  await walk(root);
  found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(found);
}

/** The content digest, or 'unreadable' for a file the caller may not read (a mode-000 file when not root). */
async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EACCES') return 'unreadable';
    throw error;
  }
  return hash.digest('hex');
}

