import type { SFTPWrapper } from 'ssh2';
import { entryRefusal } from '../errors/classify.js';
import { joinRelative, unsafeNameReason } from '../core/names.js';
import type { Problem, RemoteEntry } from '../core/types.js';
import { STATE_DIR_NAME } from '../local/paths.js';
import { kindOf, readdir, readlink } from './sftp.js';

/** One remote directory's entries, and the entries that could not be used. */
export interface RemoteListing {
  readonly entries: RemoteEntry[];
  readonly problems: Problem[];
}

/**
 * Lists one remote directory (relative path `dir` under `root`). Every name is validated before
 * use; symlink targets are read concurrently, so a directory costs a few round trips whatever
 * its size. A directory that cannot be listed is a Problem, not an exception; a broken
 * connection is thrown.
 */
export async function listRemoteDir(sftp: SFTPWrapper, root: string, dir: string): Promise<RemoteListing> {
  const problems: Problem[] = [];
  let raw;
  try {
    raw = await readdir(sftp, remotePathOf(root, dir));
  } catch (error) {
    const problem = refusal(dir, error, 'cannot list directory');
    if (!problem) throw error;
    return { entries: [], problems: [problem] };
  }
  const entries = await Promise.all(
    raw.map(async (item): Promise<RemoteEntry | undefined> => {
      const name = item.filename;
      if (name === '.' || name === '..') return undefined;
      const path = joinRelative(dir, name);
      const unsafe = unsafeNameReason(name) ?? (dir === '' && name === STATE_DIR_NAME ? `'${STATE_DIR_NAME}' is gsync's own directory` : undefined);
      if (unsafe) {
        problems.push({ path, stage: 'scan', code: 'unsafe-name', message: `refused remote name: ${unsafe}` });
        return undefined;
      }
      const { mode, size, mtime } = item.attrs;
      const kind = kindOf(mode);
      // ssh2 turns a 64-bit size past 2^53 into an inexact number: no real file is that big.
      if (kind === 'file' && !(Number.isSafeInteger(size) && size >= 0)) {
        problems.push({ path, stage: 'scan', code: 'too-large', message: `refused: the server says it holds ${size} bytes` });
        return undefined;
      }
      const entry: RemoteEntry = { name, kind, size: kind === 'file' ? size : 0, mtime, mode: mode & 0o7777 };
      if (kind !== 'symlink') return entry;
      try {
        return { ...entry, linkTarget: await readlink(sftp, remotePathOf(root, path)) };
      } catch (error) {
        const problem = refusal(path, error, 'cannot read symlink');
        if (!problem) throw error;
        problems.push(problem);
        return undefined;
      }
    }),
  );
  const listed = entries.filter((e): e is RemoteEntry => e !== undefined);
  return { entries: withoutDuplicates(dir, listed, problems).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), problems };
}

/** A name listed twice cannot be trusted either way: neither entry is used, both are reported. */
function withoutDuplicates(dir: string, entries: RemoteEntry[], problems: Problem[]): RemoteEntry[] {
  const seen = new Map<string, number>();
  for (const { name } of entries) seen.set(name, (seen.get(name) ?? 0) + 1);
  if (seen.size === entries.length) return entries;
  for (const [name, count] of seen) {
    if (count > 1) problems.push({ path: joinRelative(dir, name), stage: 'scan', code: 'unsafe-name', message: `refused remote name: listed ${count} times in one directory` });
  }
  return entries.filter((e) => seen.get(e.name) === 1);
}

/** The server refusing one path, as that path's problem; undefined for anything else (the link). */
function refusal(path: string, error: unknown, doing: string): Problem | undefined {
  const refused = entryRefusal(error, doing);
  return refused && { path, stage: 'scan', ...refused };
}

/** The server-side path of a relative path under the remote root. */
export function remotePathOf(root: string, relative: string): string {
  if (relative === '') return root;
  return root.endsWith('/') ? `${root}${relative}` : `${root}/${relative}`;
}
