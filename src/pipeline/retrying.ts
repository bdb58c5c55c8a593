import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, isTransient } from '../core/retry.js';
import { GsyncError } from '../errors/GsyncError.js';
import type { TaskResult } from '../transfer/protocol.js';
import type { PullContext } from './pullDir.js';

/** One attempt's outcome, and whether it moved anything forward (which resets the count). */
export interface Attempt {
  readonly result: TaskResult;
  readonly progressed: boolean;
}

/**
 * Runs a transfer again while it fails for a reason a new connection can cure (the link dropped
 * or stalled), waiting with backoff and jitter in between. `--retries` bounds the attempts in a
 * row that move nothing forward; then the last failure ends the run. Other failures end it at once.
 */
export async function retrying(ctx: PullContext, path: string, attempt: () => Promise<Attempt>): Promise<void> {
  for (let failures = 0; ; ) {
    const { result, progressed } = await attempt();
    if (result.kind === 'done') return;
    const { kind, message, hint } = result.error;
    failures = progressed ? 1 : failures + 1;
    if (!isTransient(kind) || failures > ctx.retry.retries || ctx.signal?.aborted) {
      throw new GsyncError(kind, message, hint === undefined ? {} : { hint });
    }
    const wait = backoffMs(failures - 1, ctx.retry, Math.random());
    ctx.notice(path, `${message}; trying again in ${(wait / 1000).toFixed(1)} s (${failures} of ${ctx.retry.retries})`);
    await sleep(wait, undefined, ctx.signal ? { signal: ctx.signal } : {});
  }
}
