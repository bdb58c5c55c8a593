/**
 * The virtual tree a hostile server serves: names are raw bytes, attributes are whatever the
 * scenario says (type bits included), and each node can carry a misbehaviour. Nothing here
 * touches a disk.
 */

/** A name as the scenario writes it: a string is sent as its UTF-8 bytes, a Buffer byte for byte. */
export type RawName = string | Buffer;

/** Default mtime of every node: a fixed, ordinary second (2023-11-14). */
export const DEFAULT_MTIME = 1_700_000_000;

export interface FileNode {
  readonly kind: 'file';
  readonly content: Buffer;
  /** Permission bits, setuid/setgid/sticky included (the type bits are added on the wire). */
  readonly perm: number;
  readonly mtime: number;
  /** The size the listing, STAT and FSTAT announce, when it is not the content's length (2^53, 2^62...). */
  readonly announcedSize?: number | bigint;
  /**
   * A file that changes whenever it is opened: the content and mtime after the `opens`-th OPEN
   * (1, 2, ...). Listings and STAT show the version of the last OPEN (the initial one before any).
   */
  readonly reopen?: (opens: number) => { content: Buffer; mtime: number };
  /** The DATA for one READ, or 'eof'; default: the content's bytes there, EOF past the end. */
  readonly readReply?: (content: Buffer, offset: number, length: number) => Buffer | 'eof';
  /** OPEN is never answered. */
  readonly stallOpen?: boolean;
  /** OPEN is refused with PERMISSION_DENIED (and the server's hostile error text). */
  readonly refuseOpen?: boolean;
}

export interface DirNode {
  readonly kind: 'dir';
  readonly entries: readonly Entry[];
  readonly perm: number;
  readonly mtime: number;
  /** READDIR never says EOF: each reply carries new names. */
  readonly endless?: boolean;
  /** READDIR is never answered. */
  readonly stallReaddir?: boolean;
  /** OPENDIR is refused with PERMISSION_DENIED (and the server's hostile error text). */
  readonly refuseOpendir?: boolean;
}

export interface LinkNode {
  readonly kind: 'symlink';
  readonly target: RawName;
  readonly mtime: number;
}

export type SpecialKind = 'fifo' | 'socket' | 'chardev' | 'blockdev';

export interface SpecialNode {
  readonly kind: SpecialKind;
  readonly perm: number;
  readonly mtime: number;
}

export type Node = FileNode | DirNode | LinkNode | SpecialNode;

export interface Entry {
  readonly name: Buffer;
  readonly node: Node;
  /**
   * What the entry turns into once its parent directory has been listed to the end: later
   * listings, LSTAT and READLINK see this node. STAT and OPENDIR still follow to `node` (as a
   * server following a symlink to the old directory would).
   */
  readonly later?: Node;
}

const TYPE_BITS: Record<Node['kind'], number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  fifo: 0o010000,
  socket: 0o140000,
  chardev: 0o020000,
  blockdev: 0o060000,
};

/** The st_mode the server announces for a node. */
export function modeOf(node: Node): number {
  return TYPE_BITS[node.kind] | (node.kind === 'symlink' ? 0o777 : node.perm);
}

export const rawName = (name: RawName): Buffer => (typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name));

interface Times {
  perm?: number;
  mtime?: number;
}

export function file(name: RawName, content: string | Buffer, options: Times & Omit<Partial<FileNode>, 'kind' | 'content'> = {}): Entry {
  const { perm = 0o644, mtime = DEFAULT_MTIME, ...rest } = options;
  return { name: rawName(name), node: { ...rest, kind: 'file', content: Buffer.from(content), perm, mtime } };
}

export function dir(name: RawName, entries: readonly Entry[], options: Times & Pick<DirNode, 'endless' | 'stallReaddir' | 'refuseOpendir'> = {}): Entry {
  const { perm = 0o755, mtime = DEFAULT_MTIME, ...rest } = options;
  return { name: rawName(name), node: { ...rest, kind: 'dir', entries, perm, mtime } };
}

export function symlink(name: RawName, target: RawName): Entry {
  return { name: rawName(name), node: { kind: 'symlink', target, mtime: DEFAULT_MTIME } };
}

export function special(name: RawName, kind: SpecialKind, perm = 0o644): Entry {
  return { name: rawName(name), node: { kind, perm, mtime: DEFAULT_MTIME } };
}

/** An entry that is `entry` for the first listing of its parent and `later` after it. */
export function turnsInto(entry: Entry, later: Entry): Entry {
  return { ...entry, later: later.node };
}

/** The served root: a directory without a name of its own. */
export function root(entries: readonly Entry[], options: Times = {}): DirNode {
  return { kind: 'dir', entries, perm: options.perm ?? 0o755, mtime: options.mtime ?? DEFAULT_MTIME };
}
