import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** What a correct copy holds: every directory, and every file with its size and SHA-1. */
export interface Manifest {
  readonly dirs: readonly string[];
  readonly files: readonly { path: string; size: number; sha1: string }[];
  /** Sum of file sizes: the payload a cold pull must move. */
  readonly bytes: number;
}

const BUFFER = Buffer.allocUnsafe(8 << 20);

/** SHA-1 of a file's bytes, read in 8 MiB slices. */
export function hashFile(path: string): string {
  const hash = createHash('sha1');
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const read = readSync(fd, BUFFER, 0, BUFFER.length, null);
      if (read === 0) break;
      hash.update(BUFFER.subarray(0, read));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Every entry under `root` as a relative path, sorted, depth first; `skip(rel)` prunes. */
export function* walk(root: string, skip: (rel: string) => boolean = () => false, rel = ''): Generator<{ rel: string; kind: 'dir' | 'file' | 'other' }> {
  const names = readdirSync(join(root, rel)).sort();
  for (const name of names) {
    const child = rel === '' ? name : `${rel}/${name}`;
    if (skip(child)) continue;
    const stat = lstatSync(join(root, child));
    const kind = stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
    yield { rel: child, kind };
    if (kind === 'dir') yield* walk(root, skip, child);
  }
}

/** Reads a tree into a Manifest (hashing every file). */
export function buildManifest(root: string): Manifest {
  const dirs: string[] = [];
  const files: { path: string; size: number; sha1: string }[] = [];
  let bytes = 0;
  for (const entry of walk(root)) {
    if (entry.kind === 'dir') dirs.push(entry.rel);
    else if (entry.kind === 'file') {
      const size = lstatSync(join(root, entry.rel)).size;
      files.push({ path: entry.rel, size, sha1: size === 0 ? '' : hashFile(join(root, entry.rel)) });
      bytes += size;
    } else throw new Error(`dataset holds something that is neither file nor directory: ${entry.rel}`);
  }
  return { dirs, files, bytes };
}

/**
 * Checks a tool's copy byte for byte: every file and directory of `manifest` present with the same
 * bytes, and nothing else but what `ownedByTool` claims (gsync's .gsync, rsync's temp files).
 * Returns '' when the copy is right, else the first few differences.
 */
export function verifyCopy(dest: string, manifest: Manifest, ownedByTool: (rel: string) => boolean): string {
  const problems: string[] = [];
  const expected = new Map(manifest.files.map((f) => [f.path, f]));
  const dirs = new Set(manifest.dirs);
  const seen = new Set<string>();
  try {
    for (const entry of walk(dest, ownedByTool)) {
      if (problems.length >= 3) break;
      seen.add(entry.rel);
      const want = expected.get(entry.rel);
      if (entry.kind === 'dir') {
        if (!dirs.has(entry.rel)) problems.push(`extra dir ${entry.rel}`);
      } else if (want === undefined || entry.kind !== 'file') {
        problems.push(`extra ${entry.kind} ${entry.rel}`);
      } else {
        const size = lstatSync(join(dest, entry.rel)).size;
        if (size !== want.size) problems.push(`${entry.rel}: ${size} bytes, want ${want.size}`);
        else if (size > 0 && hashFile(join(dest, entry.rel)) !== want.sha1) problems.push(`${entry.rel}: content differs`);
      }
    }
  } catch (error) {
    return `copy unreadable: ${(error as Error).message}`;
  }
  for (const path of [...manifest.dirs, ...expected.keys()]) {
    if (problems.length >= 3) break;
    if (!seen.has(path)) problems.push(`missing ${path}`);
  }
  return problems.join('; ');
}

/**
 * What a pull of `top` over a complete copy of `base` leaves when the tool does not delete (none
 * of the benched commands does): every file of `top`, plus the files `base` had that `top` lost.
 */
export function overlay(base: Manifest, top: Manifest): Manifest {
  const paths = new Set(top.files.map((f) => f.path));
  const kept = base.files.filter((f) => !paths.has(f.path));
  const files = [...top.files, ...kept].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    dirs: [...new Set([...base.dirs, ...top.dirs])].sort(),
    files,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
  };
}
