import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs } from '../core/retry.js';
import type { FileResult, FileVersion } from '../transfer/protocol.js';
import type { PullContext } from './pullDir.js';

/**
 * Reads of a file that keeps changing under us (a checkpoint being written) in one run: after
 * that many it is reported as changing (exit 24) and the next run tries again.
 */
export const CHANGING_ATTEMPTS = 3;

/**
 * A file the worker could not copy: reported, unless it changed while read and has attempts
 * left; then, after a short wait, `again` pulls it expecting the version the last read saw.
 * Nothing of a changed read is ever committed.
 */
export async function reportOrRetry(
  ctx: PullContext,
  path: string,
  result: Extract<FileResult, { kind: 'failed' }>,
  attempt: number,
  again: (now: FileVersion, attempt: number) => Promise<void>,
): Promise<void> {
  const retry = result.code === 'changed' && result.now !== undefined && attempt < CHANGING_ATTEMPTS;
  if (!retry || !result.now) {
    const message = result.code === 'changed' ? `${result.message} (${attempt} attempts; the next run tries again)` : result.message;
    ctx.tally.problem({ path, stage: 'transfer', code: result.code, message });
    return;
  }
  const wait = backoffMs(attempt - 1, ctx.retry, Math.random());
  ctx.notice(path, `${result.message}; copying it again in ${(wait / 1000).toFixed(1)} s (${attempt} of ${CHANGING_ATTEMPTS - 1})`, {
    reason: result.message,
    attempt,
    of: CHANGING_ATTEMPTS - 1,
    waitMs: Math.round(wait),
  });
  try {
    await sleep(wait, undefined, ctx.signal ? { signal: ctx.signal } : {});
  } catch {
    return; // interrupted: the run is ending, and this file is simply not in place yet
  }
  ctx.tally.bytesPlanned += result.now.size;
  await again(result.now, attempt + 1);
}
