import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import type { Problem, RemoteEntry } from '../core/types.js';
import type { Session } from '../ssh/connect.js';
import { StallWatch } from '../transfer/stallWatch.js';
import { entryOf, finishListing, type ListingBounds, type RemoteListing } from './scan.js';

/**
 * The one command that lists a whole remote tree, always this string: the root travels on its
 * stdin (NUL-terminated), never in a shell line. Per entry: type, permission bits, size, mtime,
 * path under the root, NUL, symlink target (empty for anything else), NUL. `-H` follows the root
 * itself if it is a symlink, as SFTP's OPENDIR does, and nothing under it.
 */
export const TREE_COMMAND = "xargs -0 -r -I '{}' find -H '{}' -mindepth 1 -printf '%y %m %s %T@ %P\\0%l\\0'";

/**
 * Entries one stream may hold: past it the tree is dropped and the walk lists by SFTP, one
 * directory at a time, as the listings are needed. Held until the walk takes them, 20,000
 * entries raised a first pull's peak RSS by ~7 MiB (median of 5).
 */
export const MAX_TREE_ENTRIES = 100_000;

/** One record's text: a path can be longer than PATH_MAX, not this long. */
const MAX_RECORD_CHARS = 64 * 1024;

/** %y's letters as st_mode's type bits; anything else (a door, an unknown type) lists as 'other'. */
const TYPE_BITS: Readonly<Record<string, number>> = { f: 0o100000, d: 0o040000, l: 0o120000, p: 0o010000, s: 0o140000, c: 0o020000, b: 0o060000 };

const HEADER = /^([a-zA-Z]) ([0-7]{1,4}) (\d{1,20}) (-?\d{1,20}(?:\.\d{1,20})?) /;

/** The server's stream was not a whole, well-formed listing: none of it may be used. */
export class BrokenTree extends Error {}

/** A whole remote tree, listed in one stream: each directory's listing, taken once by the walk. */
export class RemoteTree {
  readonly #listings: Map<string, RemoteListing>;

  constructor(listings: Map<string, RemoteListing>) {
    this.#listings = listings;
  }

  /** `dir`'s listing, if the stream had it; handed over once, so memory goes as the walk goes. */
  take(dir: string): RemoteListing | undefined {
    const listing = this.#listings.get(dir);
    this.#listings.delete(dir);
    return listing;
  }
}

interface Gathering {
  readonly entries: RemoteEntry[];
  readonly problems: Problem[];
}

/**
 * Reads the command's output into per-directory listings, each entry checked as an SFTP one is
 * (entryOf). find writes a directory before what it holds, so an entry whose directory was not
 * written first, a record cut short, or a bound passed means the stream is not a listing: the
 * whole of it is refused (BrokenTree), never a part served as a directory's whole.
 */
export class TreeParser {
  readonly #bounds: ListingBounds;
  readonly #maxEntries: number;
  readonly #dirs = new Map<string, Gathering>([['', { entries: [], problems: [] }]]);
  /** Directories refused by name: what they hold is not listed, as the walk never goes there. */
  readonly #refused = new Set<string>();
  #rest = '';
  /** A record's first field, waiting for its symlink target. */
  #header: string | undefined;
  #count = 0;

  constructor(bounds: ListingBounds, maxEntries = MAX_TREE_ENTRIES) {
    this.#bounds = bounds;
    this.#maxEntries = maxEntries;
  }

  push(text: string): void {
    const fields = (this.#rest + text).split('\0');
    this.#rest = fields.pop() ?? '';
    if (this.#rest.length > MAX_RECORD_CHARS) throw new BrokenTree('a record longer than any path');
    for (const field of fields) {
      if (this.#header === undefined) {
        this.#header = field;
        continue;
      }
      this.#record(this.#header, field);
      this.#header = undefined;
    }
  }

  /** The listings, once the stream has ended and the command said it succeeded. */
  end(): RemoteTree {
    if (this.#rest !== '' || this.#header !== undefined) throw new BrokenTree('the stream ended inside a record');
    const listings = new Map<string, RemoteListing>();
    for (const [dir, { entries, problems }] of this.#dirs) listings.set(dir, finishListing(dir, entries, problems));
    return new RemoteTree(listings);
  }

  #record(header: string, target: string): void {
    const fields = HEADER.exec(header);
    if (!fields) throw new BrokenTree('a record that is not type, mode, size, mtime and path');
    const [whole, type = '', permissions = '', size = '', mtime = ''] = fields;
    const path = header.slice(whole.length);
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (name === '') throw new BrokenTree('an empty name');
    const mode = (TYPE_BITS[type] ?? 0) | parseInt(permissions, 8);
    if (this.#refused.has(dir)) {
      if (type === 'd') this.#refused.add(path);
      return;
    }
    const into = this.#dirs.get(dir);
    if (!into) throw new BrokenTree('an entry listed before its directory');
    if (++this.#count > this.#maxEntries) throw new BrokenTree(`more than ${this.#maxEntries} entries`);
    if (into.entries.length >= this.#bounds.maxEntries) throw new BrokenTree(`a directory of more than ${this.#bounds.maxEntries} entries`);
    const entry = entryOf(dir, name, { mode, size: Number(size), mtime: sftpTime(Number(mtime)) }, into.problems);
    if (!entry) {
      if (type === 'd') this.#refused.add(path);
      return;
    }
    into.entries.push(entry.kind === 'symlink' ? { ...entry, linkTarget: target } : entry);
    // A directory listed twice is refused by its parent's listing (finishListing); its first listing stands here.
    if (entry.kind === 'dir' && !this.#dirs.has(path)) this.#dirs.set(path, { entries: [], problems: [] });
  }
}

/**
 * Whole seconds as an SFTP listing gives them (OpenSSH's server sends st_mtime as an unsigned
 * 32-bit number): a file dated before 1970 must not look changed when a run lists by SFTP.
 */
function sftpTime(seconds: number): number {
  const whole = Math.floor(seconds);
  return ((whole % 2 ** 32) + 2 ** 32) % 2 ** 32;
}

/**
 * Lists the tree under `root` in one stream (TREE_COMMAND) over an exec channel of `session`.
 * Anything short of a whole, well-formed listing the command says it finished (no exec or no
 * GNU find on the server, a directory it could not read, a stall past `stallTimeoutMs`, a
 * bound) is undefined: the walk then lists by SFTP, as it always could.
 */
export async function listTree(session: Session, root: string, bounds: ListingBounds, stallTimeoutMs: number): Promise<RemoteTree | undefined> {
  const watch = new StallWatch(stallTimeoutMs);
  let channel: ClientChannel | undefined;
  try {
    return await watch.guard(
      async () => {
        channel = await session.exec(TREE_COMMAND);
        return await readTree(channel, root, new TreeParser(bounds), () => watch.fed());
      },
      () => channel?.close(),
    );
  } catch {
    channel?.close();
    return undefined;
  }
}

function readTree(channel: ClientChannel, root: string, parser: TreeParser, onData: () => void): Promise<RemoteTree> {
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let status: number | undefined;
    channel.on('data', (chunk: Buffer) => {
      onData();
      try {
        parser.push(decoder.write(chunk));
      } catch (error) {
        reject(error as Error);
        channel.close();
      }
    });
    // Read and dropped: find's complaints are a non-zero exit, which is all that counts.
    channel.stderr.resume();
    channel.on('exit', (code: number | null) => {
      status = code ?? undefined;
    });
    channel.on('error', reject);
    channel.on('close', () => {
      try {
        parser.push(decoder.end());
        if (status !== 0) throw new BrokenTree(`the listing command exited with ${status ?? 'a signal'}`);
        resolve(parser.end());
      } catch (error) {
        reject(error as Error);
      }
    });
    // A relative root is the login directory's, as for SFTP; one starting with '-' must not read as an option.
    channel.end(`${root.startsWith('-') ? './' : ''}${root}\0`);
  });
}
