import { entryRefusal } from '../errors/classify.js';
import type { ReadOutcome } from '../remote/readLoop.js';
import type { FileResult } from './protocol.js';

/**
 * A read that found the file changed: not copied, and the version it found, so the run can try
 * again expecting that one.
 */
export function changedResult(path: string, outcome: Extract<ReadOutcome, { status: 'changed' }>): FileResult {
  return { kind: 'failed', path, code: 'changed', message: `changed while read: ${outcome.reason}`, now: outcome.now };
}

/** A failure that concerns this file alone (the server refused it) as its result; undefined for anything else, which ends the task. */
export function refusedResult(path: string, error: unknown): FileResult | undefined {
  const refused = entryRefusal(error, 'cannot read');
  return refused && { kind: 'failed', path, ...refused };
}
