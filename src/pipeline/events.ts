import type { DirOutcome, Problem, RunSummary } from '../core/types.js';
import type { RetryInfo } from './retrying.js';

/**
 * How a file's bytes came: fetched from the start ('tar': the same, in one stream with other
 * small files from the server's tar), a partial of an earlier run continued, or a grown file
 * extended (--append).
 */
export type FileTransfer = 'whole' | 'tar' | 'resumed' | 'appended';

/**
 * Where the run stands, sent about every 100 ms while directories are walked. Totals grow as
 * directories are listed; `bytesDone` counts file bytes as they arrive (bytes read again count
 * again, so it can pass `bytesTotal` for a while).
 */
export interface Progress {
  /** File bytes received so far. */
  readonly bytesDone: number;
  /** File bytes this run has to fetch, as far as the directories listed so far tell (a resumed partial's recorded bytes not included). */
  readonly bytesTotal: number;
  /** Files put in place so far. */
  readonly filesDone: number;
  /** Files to fetch, as far as the directories listed so far tell. */
  readonly filesTotal: number;
  /** Bytes received on the wire by every connection of the run (SSH framing, listings and handshakes included). */
  readonly bytesReceived: number;
  /** A file being transferred now, if any. */
  readonly current: string | undefined;
}

/**
 * What the engine reports while it runs. It never prints: the CLI renders these (docs/events.md
 * describes them as `--json` prints them). Paths are relative to the destination, '' the root.
 */
export type RunEvent =
  | { readonly type: 'start'; readonly runId: number; readonly source: string; readonly destination: string }
  | { readonly type: 'dir-start'; readonly path: string }
  /** A directory's own entries are done (its subdirectories go on by themselves); `problems` counts its entries that failed. */
  | { readonly type: 'dir-done'; readonly path: string; readonly outcome: DirOutcome; readonly problems: number }
  /** A file is in place. `bytes` were fetched for it in this run; `size` is its size. */
  | { readonly type: 'file'; readonly path: string; readonly bytes: number; readonly size: number; readonly transfer: FileTransfer }
  /** A transient failure (a dropped or stalled link, a file changing while read) is tried again after a wait. */
  | ({ readonly type: 'retry'; readonly path: string; readonly message: string } & RetryInfo)
  | { readonly type: 'notice'; readonly path: string; readonly message: string }
  | { readonly type: 'problem'; readonly problem: Problem }
  | ({ readonly type: 'progress' } & Progress)
  | { readonly type: 'done'; readonly summary: RunSummary }
  /** --dry-run: one thing a run would do. */
  | { readonly type: 'planned'; readonly item: PlanItem }
  | { readonly type: 'dry-run-done'; readonly summary: DryRunSummary };

/** A line of --dry-run's plan, as rsync -i itemizes: what would change at `path`. */
export interface PlanItem {
  readonly change: 'new' | 'changed' | 'resume' | 'append' | 'attrs' | 'mkdir' | 'symlink' | 'delete' | 'skip' | 'conflict';
  /** Directories end in '/'. */
  readonly path: string;
  /** Bytes a run would fetch for it. */
  readonly bytes?: number;
  /** How far a partial got, a link's target, why it is skipped. */
  readonly detail?: string;
}

/** What --dry-run found a run would do, in all. */
export interface DryRunSummary {
  readonly filesToTransfer: number;
  readonly bytesToTransfer: number;
  readonly upToDate: number;
  readonly toDelete: readonly string[];
  readonly filesToDelete: number;
  readonly deleteRefused?: string;
  readonly problems: readonly Problem[];
  readonly durationMs: number;
  readonly exitCode: number;
}

export interface EventSink {
  emit(event: RunEvent): void;
}
