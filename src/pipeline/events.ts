import type { Problem, RunSummary } from '../core/types.js';

/** What the engine reports while it runs. It never prints: the CLI renders these. */
export type RunEvent =
  | { readonly type: 'start'; readonly runId: number; readonly source: string; readonly destination: string }
  | { readonly type: 'file'; readonly path: string; readonly bytes: number }
  | { readonly type: 'notice'; readonly path: string; readonly message: string }
  | { readonly type: 'problem'; readonly problem: Problem }
  | { readonly type: 'done'; readonly summary: RunSummary };

export interface EventSink {
  emit(event: RunEvent): void;
}
