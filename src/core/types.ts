import type { LinksMode } from './links.js';
import type { Selection } from './selection.js';

/** The data that flows between the pipeline's stages. Paths are relative, posix, '' is the root. */

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

/** One entry of a remote directory listing, its name already validated. */
export interface RemoteEntry {
  readonly name: string;
  readonly kind: EntryKind;
  readonly size: number;
  /** Whole seconds: SFTP v3 carries no finer resolution. */
  readonly mtime: number;
  /** Permission bits only (& 0o7777). */
  readonly mode: number;
  readonly linkTarget?: string;
}

/** One entry of the local destination directory (lstat: never followed). */
export interface LocalEntry {
  readonly name: string;
  readonly kind: EntryKind;
  readonly size: number;
  readonly mtime: number;
  readonly mode: number;
  readonly linkTarget?: string;
}

/** What the state file remembers of an entry gsync put in place. */
export interface ManifestRow {
  readonly path: string;
  readonly kind: EntryKind;
  readonly size: number;
  readonly mtime: number;
  readonly mode: number;
  readonly linkTarget: string | null;
}

/** A directory as both sides and the state file see it: the planner's whole input for it. */
export interface DirInput {
  readonly path: string;
  readonly remote: readonly RemoteEntry[];
  readonly local: readonly LocalEntry[];
  readonly state: readonly ManifestRow[];
  /** The remote directory's own attributes; absent when they must not be applied (root of a single-file pull, a listing that failed). */
  readonly self?: DirAttrs;
  /** --append: a file that only grew since its last complete copy is extended, not fetched again. */
  readonly append?: boolean;
  /** --links: which remote symlinks are made (default safe). */
  readonly links?: LinksMode;
  /** The user's umask, taken off every remote mode (default 0). */
  readonly umask?: number;
  /** Filters, sizes and age: which remote entries this run takes. */
  readonly selection?: Selection;
  /**
   * --delete, and this directory's remote listing was whole: local entries the remote no longer
   * has (and no filter excludes) are to be deleted.
   */
  readonly delete?: boolean;
}

export type Action =
  | { readonly type: 'mkdir'; readonly path: string; readonly replace: boolean }
  | { readonly type: 'fetch'; readonly path: string; readonly entry: RemoteEntry }
  /** --append: the local copy (complete at `from` bytes) is extended to the remote size. */
  | { readonly type: 'append'; readonly path: string; readonly entry: RemoteEntry; readonly from: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string; readonly entry: RemoteEntry }
  | { readonly type: 'skip'; readonly path: string; readonly entry: RemoteEntry }
  /** Content already in place (same size and mtime): fix its mode if it differs and record it. */
  | { readonly type: 'adopt'; readonly path: string; readonly entry: RemoteEntry }
  | { readonly type: 'conflict'; readonly path: string; readonly reason: string }
  /** Not made locally, for `reason` (a FIFO, a device, a symlink that could lead outside): said, not a failure. */
  | { readonly type: 'unsupported'; readonly path: string; readonly entry: RemoteEntry; readonly reason: string }
  /** Left alone this run by --min-size, --max-size or --min-age; not deleted either. */
  | { readonly type: 'hold'; readonly path: string; readonly entry: RemoteEntry; readonly reason: string }
  /** --delete: a local entry the remote no longer has. */
  | { readonly type: 'delete'; readonly path: string; readonly entry: LocalEntry };

export interface DirAttrs {
  readonly mtime: number;
  readonly mode: number;
}

/** A directory to pull, with the attributes its parent's listing gave it. */
export interface DirRef {
  readonly path: string;
  readonly attrs: DirAttrs | undefined;
}

/** Everything to do for one directory; its own mtime/mode are applied after its subtree is done. */
export interface DirPlan {
  readonly path: string;
  readonly actions: readonly Action[];
  /** Subdirectories to descend into, in listing order. */
  readonly subdirs: readonly DirRef[];
  readonly attrs?: DirAttrs;
}

/**
 * How a directory's own part of a run ended: every entry in place, some entries failed, or the
 * directory could not be listed at all (so nothing in it can be trusted, or deleted).
 */
export type DirOutcome = 'complete' | 'incomplete' | 'unlisted';

/** A per-path failure: data, not an exception, so the rest of the run goes on. */
export interface Problem {
  readonly path: string;
  readonly stage: 'scan' | 'plan' | 'transfer' | 'commit';
  readonly code: ProblemCode;
  readonly message: string;
}

export type ProblemCode =
  | 'permission-denied'
  | 'not-found'
  | 'vanished'
  | 'changed'
  | 'unsafe-name'
  | 'too-large'
  | 'conflict'
  /** The server broke the SFTP protocol for this one file (more data than asked or than it has). */
  | 'protocol'
  | 'io';

export interface RunSummary {
  readonly runId: number;
  readonly filesTransferred: number;
  /** File bytes fetched for the files put in place (a resumed file counts only what this run fetched). */
  readonly bytesTransferred: number;
  readonly filesSkipped: number;
  readonly bytesSkipped: number;
  /** Bytes received on the wire by every connection of the run: SSH framing, listings and handshakes included. */
  readonly bytesReceived: number;
  /** Sizes of the files in place after the run, transferred or up to date: rsync's "total size". */
  readonly totalSize: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly problems: readonly Problem[];
  /** --delete: the local entries removed (a directory with all under it), and the files that took. */
  readonly deleted: readonly string[];
  readonly filesDeleted: number;
  /** --delete planned removals a guard refused (--max-delete, the mass-delete guard): why; nothing was deleted. */
  readonly deleteRefused?: string;
  readonly durationMs: number;
  readonly exitCode: number;
}
