import { fchmodSync, futimesSync } from 'node:fs';
import { entryRefusal, localIoError, verdictOf } from '../errors/classify.js';
import type { ReadOutcome } from '../remote/readLoop.js';
import type { FileResult, FileTask } from './protocol.js';

/**
 * A finished read as the file's result. A complete one gets its mtime and mode through the
 * descriptor (the final path is never touched before the rename); a changed one is not copied,
 * and carries the version the read found, so the run can try again expecting that one.
 */
export function readResult(fd: number, file: FileTask, outcome: ReadOutcome): FileResult {
  if (outcome.status === 'changed') {
    return { kind: 'failed', path: file.path, code: 'changed', message: `changed while read: ${outcome.reason}`, now: outcome.now };
  }
  if (outcome.status === 'broken') {
    return { kind: 'failed', path: file.path, code: 'protocol', message: `the server broke the SFTP protocol: ${outcome.reason}` };
  }
  futimesSync(fd, file.mtime, file.mtime);
  fchmodSync(fd, file.mode);
  return { kind: 'fetched', path: file.path, bytes: outcome.bytes };
}

/**
 * A failed read: a refusal that concerns this file alone (the server refused it) is its result;
 * anything else (the link, the local disk, named with the file being written) is thrown and ends
 * the task.
 */
export function failedResult(file: FileTask, error: unknown): FileResult {
  const refused = entryRefusal(error, 'cannot read');
  if (refused) return { kind: 'failed', path: file.path, ...refused };
  throw verdictOf(error).kind === 'local-io' ? localIoError(error, `writing ${file.path}`) : error;
}
