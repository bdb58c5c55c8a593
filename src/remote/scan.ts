import type { FileEntryWithStats, SFTPWrapper } from 'ssh2';
import { entryRefusal } from '../errors/classify.js';
import { GsyncError } from '../errors/GsyncError.js';
import { joinRelative, unsafeNameReason } from '../core/names.js';
import type { Problem, RemoteEntry } from '../core/types.js';
import { STATE_DIR_NAME } from '../local/paths.js';
import { kindOfMode } from '../core/modes.js';
import { closeHandle, opendir, readdirBatch, readlink } from './sftp.js';

/** One remote directory's entries, and the entries that could not be used. */
export interface RemoteListing {
  readonly entries: RemoteEntry[];
  readonly problems: Problem[];
}

/** How much one listing may hold; the default is far past any real directory. */
export interface ListingBounds {
  readonly maxEntries: number;
}

export const defaultListingBounds: ListingBounds = { maxEntries: 1_000_000 };

/** Bytes of names one listing may send, and how long it may take: a server that never stops is cut off. */
const MAX_NAME_CHARS = 256 * 1024 * 1024;
const MAX_LISTING_MS = 10 * 60_000;
/** READDIR replies in a row without a name: a server stringing gsync along instead of saying EOF. */
const MAX_EMPTY_REPLIES = 64;

/**
 * Lists one remote directory (relative path `dir` under `root`). Every name is validated before
 * use; symlink targets are read concurrently, so a directory costs a few round trips whatever
 * its size. A directory that cannot be listed, or lists past `bounds`, is a Problem, not an
 * exception; a broken connection is thrown.
 */
export async function listRemoteDir(
  sftp: SFTPWrapper,
  root: string,
  dir: string,
  bounds: ListingBounds = defaultListingBounds,
  onReply: () => void = () => undefined,
): Promise<RemoteListing> {
  const problems: Problem[] = [];
  let raw;
  try {
    raw = await readWholeDir(sftp, remotePathOf(root, dir), bounds, onReply);
  } catch (error) {
    const problem = refusal(dir, error, 'cannot list directory');
    if (!problem) throw error;
    return { entries: [], problems: [problem] };
  }
  const entries = await Promise.all(
    raw.map(async (item): Promise<RemoteEntry | undefined> => {
      const name = item.filename;
      if (name === '.' || name === '..') return undefined;
      const entry = entryOf(dir, name, item.attrs, problems);
      if (entry?.kind !== 'symlink') return entry;
      const path = joinRelative(dir, name);
      try {
        const linkTarget = await readlink(sftp, remotePathOf(root, path));
        onReply();
        return { ...entry, linkTarget };
      } catch (error) {
        const problem = refusal(path, error, 'cannot read symlink');
        if (!problem) throw error;
        problems.push(problem);
        return undefined;
      }
    }),
  );
  return finishListing(dir, entries.filter((e): e is RemoteEntry => e !== undefined), problems);
}

/** What a listing says of one entry, whichever way it was listed (SFTP, or the tree's one stream). */
export interface ListedAttrs {
  /** The whole st_mode: type and permission bits. */
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
}

/**
 * One listed name as an entry, or undefined with the reason added to `problems`: an unsafe name,
 * gsync's own directory at the root, a file size no real file has. A symlink's target is the
 * caller's to add.
 */
export function entryOf(dir: string, name: string, attrs: ListedAttrs, problems: Problem[]): RemoteEntry | undefined {
  const path = joinRelative(dir, name);
  const unsafe = unsafeNameReason(name) ?? (dir === '' && name === STATE_DIR_NAME ? `'${STATE_DIR_NAME}' is gsync's own directory` : undefined);
  if (unsafe) {
    problems.push({ path, stage: 'scan', code: 'unsafe-name', message: `refused remote name: ${unsafe}` });
    return undefined;
  }
  const { mode, size, mtime } = attrs;
  const kind = kindOfMode(mode);
  // ssh2 turns a 64-bit size past 2^53 into an inexact number: no real file is that big.
  if (kind === 'file' && !(Number.isSafeInteger(size) && size >= 0)) {
    problems.push({ path, stage: 'scan', code: 'too-large', message: `refused: the server says it holds ${size} bytes` });
    return undefined;
  }
  return { name, kind, size: kind === 'file' ? size : 0, mtime, mode: mode & 0o7777 };
}

/** A directory's entries as the walk takes them: a name listed twice refused, the rest in name order. */
export function finishListing(dir: string, entries: RemoteEntry[], problems: Problem[]): RemoteListing {
  return { entries: withoutDuplicates(dir, entries, problems).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), problems };
}

/**
 * READDIRs sent at once on one handle, a wave at a time. OpenSSH's server answers them in turn,
 * each with the next batch of up to 100 names, and says EOF only in a reply of its own: a
 * directory of up to two batches (199 entries) is listed in one round trip. A READDIR more than
 * a directory needs costs an empty reply; one fewer, a round trip (over a 20 ms one, the 100
 * files of a directory listed with `.` and `..` came 22 ms later with two). Replies are taken in
 * the order sent; once one says EOF no wave follows, and names in a reply after it (a server
 * that answered out of turn) still count.
 */
const READDIRS_AT_ONCE = 3;

/** READDIR until EOF, as ssh2's own readdir does, but bounded: it would gather an endless listing forever. */
async function readWholeDir(sftp: SFTPWrapper, path: string, bounds: ListingBounds, onReply: () => void): Promise<FileEntryWithStats[]> {
  const handle = await opendir(sftp, path);
  const inFlight: Array<Promise<FileEntryWithStats[] | undefined>> = [];
  try {
    const entries: FileEntryWithStats[] = [];
    const started = Date.now();
    let chars = 0;
    let empty = 0;
    let ended = false;
    for (;;) {
      // In waves: READDIRs sent after the one that meets EOF would hold the listing a round trip more.
      if (!ended && inFlight.length === 0) for (let i = 0; i < READDIRS_AT_ONCE; i++) inFlight.push(readdirBatch(sftp, handle));
      const next = inFlight.shift();
      if (!next) return entries;
      const batch = await next;
      onReply();
      if (!batch) {
        ended = true;
        continue;
      }
      empty = batch.length === 0 ? empty + 1 : 0;
      for (const item of batch) {
        chars += item.filename.length;
        entries.push(item);
      }
      const over = pastBounds(entries.length, chars, empty, Date.now() - started, bounds);
      if (over) throw new GsyncError('remote-io', `the listing went past its bounds: ${over}`);
    }
  } finally {
    // Given up on (a bound, a failed READDIR): the replies still due are not waited for.
    for (const reply of inFlight) reply.catch(() => undefined);
    void closeHandle(sftp, handle);
  }
}

/** Which bound a listing so far went past, if any. */
function pastBounds(entries: number, chars: number, emptyReplies: number, elapsedMs: number, bounds: ListingBounds): string | undefined {
  if (entries > bounds.maxEntries) return `more than ${bounds.maxEntries} entries (--max-dir-entries raises the limit)`;
  if (chars > MAX_NAME_CHARS) return 'more than 256 MiB of names';
  if (emptyReplies > MAX_EMPTY_REPLIES) return `${emptyReplies} replies in a row without a name and no end`;
  if (elapsedMs > MAX_LISTING_MS) return 'still listing after 10 minutes';
  return undefined;
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
