import { verdictOf } from '../errors/classify.js';
import type { ReadOutcome } from '../remote/readLoop.js';
import type { FileResult } from './protocol.js';

/**
 * A read that found the file changed: not copied, and the version it found, so the run can try
 * again expecting that one.
 */
export function changedResult(path: string, outcome: Extract<ReadOutcome, { status: 'changed' }>): FileResult {
  return { kind: 'failed', path, code: 'changed', message: `changed while read: ${outcome.reason}`, now: outcome.now };
}

/**
 * A failure that concerns this file alone (the server refused it) as its result; undefined for
 * anything else (the link, the local disk), which ends the task.
 */
export function refusedResult(path: string, error: unknown): FileResult | undefined {
  const verdict = verdictOf(error);
  if (verdict.severity !== 'permanent') return undefined;
  // The listing saw the file: not finding it now means it was deleted since.
  if (verdict.problem === 'not-found') return { kind: 'failed', path, code: 'vanished', message: 'deleted on the server after it was listed' };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'failed', path, code: verdict.problem ?? 'io', message: `cannot read: ${message}` };
}
