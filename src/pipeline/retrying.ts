import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, type RetryPolicy } from '../core/retry.js';
import { verdictOf } from '../errors/classify.js';
import { GsyncError } from '../errors/GsyncError.js';
import type { TaskResult } from '../transfer/protocol.js';

/** One attempt's outcome: why it failed (nothing when it worked), and whether it moved anything forward (which resets the count). */
export interface Attempt {
  readonly failure: GsyncError | undefined;
  readonly progressed: boolean;
}

/** A retry as the user is told of it: why, which attempt of how many, and the wait before it. */
export interface RetryInfo {
  readonly reason: string;
  readonly attempt: number;
  readonly of: number;
  readonly waitMs: number;
}

export interface RetryContext {
  readonly retry: RetryPolicy;
  readonly signal: AbortSignal | undefined;
}

/**
 * Runs an attempt again while it fails for a reason a new connection can cure (the link dropped
 * or stalled), waiting with backoff and jitter in between and saying so through `notice`
 * ("<why>; <again> in 0.4 s (1 of 5)"). `--retries` bounds the attempts in a row that move
 * nothing forward; then the last failure is thrown. Other failures are thrown at once.
 * `failedBefore`: a first attempt made another way (the tar lane's) that failed; it counts as one.
 */
export async function retrying(
  ctx: RetryContext,
  again: string,
  notice: (message: string, retry: RetryInfo) => void,
  attempt: () => Promise<Attempt>,
  failedBefore?: GsyncError,
): Promise<void> {
  let before: Attempt | undefined = failedBefore && { failure: failedBefore, progressed: false };
  for (let failures = 0; ; ) {
    const { failure, progressed } = before ?? (await attempt());
    before = undefined;
    if (!failure) return;
    failures = progressed ? 1 : failures + 1;
    if (verdictOf(failure).severity !== 'transient' || failures > ctx.retry.retries || ctx.signal?.aborted) throw failure;
    const wait = backoffMs(failures - 1, ctx.retry, Math.random());
    notice(`${failure.message}; ${again} in ${(wait / 1000).toFixed(1)} s (${failures} of ${ctx.retry.retries})`, {
      reason: failure.message,
      attempt: failures,
      of: ctx.retry.retries,
      waitMs: Math.round(wait),
    });
    await sleep(wait, undefined, ctx.signal ? { signal: ctx.signal } : {});
  }
}

/** A worker's answer as an attempt's failure: a fatal result becomes the error it describes. */
export function taskFailure(result: TaskResult): GsyncError | undefined {
  if (result.kind === 'done') return undefined;
  const { kind, message, hint, errno } = result.error;
  return new GsyncError(kind, message, { ...(hint === undefined ? {} : { hint }), ...(errno === undefined ? {} : { errno }) });
}
