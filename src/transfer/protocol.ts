import type { MessagePort } from 'node:worker_threads';
import type { BlockSpan } from '../core/blocks.js';
import type { ProblemCode } from '../core/types.js';
import type { ErrorKind } from '../errors/GsyncError.js';
import type { Trust } from '../ssh/connect.js';
import type { ConnectSpec } from '../ssh/spec.js';
import type { BandwidthShare } from './bandwidth.js';

/** Given to every worker when the pool starts: how to connect, the host keys to pin and the logins that worked. */
export interface WorkerInit {
  readonly spec: ConnectSpec;
  readonly trust: Trust;
  /**
   * A BroadcastChannel name between the pool and its workers. A worker says 'connected' once its
   * first login is through; 'hang-up' asks every worker to close its connection (and whatever
   * ProxyCommand it runs) before the pool ends the threads, which closes nothing.
   */
  readonly controlChannel: string;
  /** One Int32, set to 1 when the pool closes: a worker that starts after the hang-up went out sees it here. */
  readonly closed: SharedArrayBuffer;
  /** --timeout: a connection that brings no data for this long while reads are outstanding is torn down. */
  readonly stallTimeoutMs: number;
  /** --bwlimit: the run's one budget, shared by every worker (absent: no limit, and no cost). */
  readonly bandwidth?: BandwidthShare;
  /** The run's ByteMeter counters (payload and wire bytes), shared with the main thread. */
  readonly meter: SharedArrayBuffer;
  /** The run's AtRiskBudget, shared with the main thread and every worker. */
  readonly atRisk: SharedArrayBuffer;
}

export type PoolMessage = 'connected' | 'hang-up' | 'hung-up';

/** A recorded block: its index and the xxhash64 (16 hex digits) of its bytes. */
export interface BlockRecord {
  readonly index: number;
  readonly hash: string;
}

/**
 * One big file, in blocks, into a partial that may already hold some: recorded blocks are
 * re-hashed from disk first and fetched again if they do not match. Blocks written are
 * reported on `progress` as they land (BlocksDone messages), so a kill loses only the blocks
 * in flight.
 */
export interface BlockTask {
  readonly kind: 'blocks';
  readonly file: FileTask;
  readonly blockSize: number;
  readonly recorded: readonly BlockRecord[];
  /** --append: blocks wholly below this offset are already right in the partial (a copy of the old file): hashed and recorded, not fetched. */
  readonly trustedBytes: number;
  /** The blocks this task is for: other workers may be filling the rest of the same partial. */
  readonly span: BlockSpan;
  readonly progress: MessagePort;
}

export interface BlocksDone {
  readonly blocks: readonly BlockRecord[];
  /** Bytes of the run's at-risk budget these blocks held: they stay at risk until the state file has them, and whoever records them gives the room back. */
  readonly room: number;
}

/** One whole file to copy into its partial path. */
export interface FileTask {
  readonly path: string;
  readonly remotePath: string;
  readonly partialPath: string;
  readonly size: number;
  readonly mtime: number;
  /** The permission bits the local file gets (the remote's, less setuid/setgid/sticky and the umask). */
  readonly mode: number;
}

/** A batch of files for one worker: small files travel together so each costs no extra hop. */
export interface FetchTask {
  readonly kind: 'fetch';
  readonly files: readonly FileTask[];
}

/**
 * Small files, possibly from many directories, for the server's `tar` to send as one stream
 * (tarFetch.ts). The result lists only the files fetched; the rest go by SFTP.
 */
export interface TarTask {
  readonly kind: 'tar';
  readonly files: readonly FileTask[];
}

/** A remote file's version, as far as SFTP v3 can tell one from another. */
export interface FileVersion {
  readonly size: number;
  readonly mtime: number;
}

export type FileResult =
  | { readonly kind: 'fetched'; readonly path: string; readonly bytes: number }
  /** For a file that changed while read (code 'changed'), `now` is its version after the read. */
  | { readonly kind: 'failed'; readonly path: string; readonly code: ProblemCode; readonly message: string; readonly now?: FileVersion };

/** The worker's answer. `fatal` means its connection or the local disk failed: the run must stop. */
export type TaskResult =
  /** `tarUsable`, for a tar task: whether the server's tar answered with a well-formed archive. */
  | { readonly kind: 'done'; readonly files: readonly FileResult[]; readonly tarUsable?: boolean }
  | {
      readonly kind: 'fatal';
      readonly files: readonly FileResult[];
      readonly error: { readonly kind: ErrorKind; readonly message: string; readonly hint?: string; readonly errno?: string };
    };

/** Messages cross a thread boundary: check the shape before trusting it. */
export function isTaskResult(value: unknown): value is TaskResult {
  const v = value as Partial<TaskResult> | null;
  if (!v || !Array.isArray(v.files)) return false;
  if (v.kind === 'done') return true;
  return v.kind === 'fatal' && typeof v.error?.message === 'string' && typeof v.error.kind === 'string';
}
