import type { Problem, RunSummary } from '../core/types.js';

/** What the engine reports while it runs. It never prints: the CLI renders these. */
export type RunEvent =
  | { readonly type: 'start'; readonly runId: number; readonly source: string; readonly destination: string }
  | { readonly type: 'file'; readonly path: string; readonly bytes: number }
  | { readonly type: 'notice'; readonly path: string; readonly message: string }
  | { readonly type: 'problem'; readonly problem: Problem }
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
