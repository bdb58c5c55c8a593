import { parseDuration, parseRate } from '../core/quantities.js';
import { GsyncError, isGsyncError } from '../errors/GsyncError.js';

/** What --max-duration asked for: how long, and as typed (the message quotes it). */
export interface TimeLimit {
  readonly seconds: number;
  readonly typed: string;
}

/** --bwlimit (bytes per second, 0 for none) and --max-duration, checked before anything starts. */
export function limitsOf(flags: { bwlimit?: string | undefined; 'max-duration'?: string | undefined }): { bytesPerSecond: number; timeLimit?: TimeLimit } {
  const typed = flags['max-duration'];
  const seconds = typed === undefined ? undefined : parseDuration(typed, '--max-duration');
  if (seconds === 0) throw new GsyncError('usage', `--max-duration ${typed}: would stop the run before it starts`, { hint: 'give --max-duration a duration such as 90s, 15m, 2h or 1d' });
  return {
    bytesPerSecond: flags.bwlimit === undefined ? 0 : parseRate(flags.bwlimit, '--bwlimit'),
    ...(typed === undefined || seconds === undefined ? {} : { timeLimit: { seconds, typed } }),
  };
}

/** setTimeout's longest wait (about 24.8 days): a longer limit is waited out in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * --max-duration: once `seconds` have passed, aborts `controller` with the time-limit error as its
 * reason. The run then stops as it does on SIGINT (no new work; what is done kept and recorded;
 * the lock released) but ends with that error: exit 30. Returns what disarms it.
 */
export function armTimeLimit(controller: AbortController, { seconds, typed }: TimeLimit): () => void {
  const reached = new GsyncError('timeout', `stopped: the time limit was reached (--max-duration ${typed}); finished files and blocks are in place and recorded`, {
    hint: 'run the same command again to continue where this run stopped',
  });
  let timer: NodeJS.Timeout | undefined;
  const waitUntil = (deadline: number): void => {
    timer = setTimeout(() => {
      if (Date.now() < deadline) waitUntil(deadline);
      else controller.abort(reached);
    }, Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now())));
    timer.unref();
  };
  waitUntil(Date.now() + seconds * 1000);
  return () => clearTimeout(timer);
}

/**
 * A run the time limit stopped before it began (while connecting) fails as interrupted: it is the
 * time limit all the same.
 */
export function timeLimitOr(signal: AbortSignal, error: unknown): unknown {
  const reason: unknown = signal.reason;
  return isGsyncError(error) && error.kind === 'interrupted' && isGsyncError(reason) ? reason : error;
}
