import type { RunSummary } from '../../src/core/types.js';
import type { Progress, RunEvent } from '../../src/pipeline/events.js';

/** A hostile name: ESC and C1's CSI would drive a terminal if printed raw. */
export const EVIL = 'evil\u001b[2J\u009b31m.txt';

export const progress = (fields: Partial<Progress> = {}): RunEvent => ({
  type: 'progress',
  bytesDone: 0,
  bytesTotal: 64 * 1024 * 1024,
  filesDone: 0,
  filesTotal: 3,
  bytesReceived: 0,
  current: undefined,
  ...fields,
});

export const summary = (fields: Partial<RunSummary> = {}): RunSummary => ({
  runId: 7,
  filesTransferred: 2,
  bytesTransferred: 3 * 1024 * 1024,
  filesSkipped: 1,
  bytesSkipped: 1024,
  bytesReceived: 3 * 1024 * 1024 + 20 * 1024,
  totalSize: 3 * 1024 * 1024 + 1024,
  dirs: 2,
  symlinks: 0,
  problems: [],
  deleted: [],
  filesDeleted: 0,
  durationMs: 2000,
  exitCode: 0,
  ...fields,
});

/** One of every event the engine sends, in an order a run could send them. */
export function everyEvent(): RunEvent[] {
  return [
    { type: 'start', runId: 7, source: 'box:runs/exp1', destination: '/home/me/exp1' },
    { type: 'dir-start', path: '' },
    progress({ current: 'ckpt.pt' }),
    { type: 'retry', path: 'ckpt.pt', message: 'the connection failed: reset; trying again in 0.4 s (1 of 5)', reason: 'the connection failed: reset', attempt: 1, of: 5, waitMs: 412 },
    { type: 'file', path: 'ckpt.pt', bytes: 2 * 1024 * 1024, size: 3 * 1024 * 1024, transfer: 'resumed' },
    { type: 'file', path: EVIL, bytes: 10, size: 10, transfer: 'whole' },
    { type: 'notice', path: 'fifo', message: 'not a regular file, directory or symlink (a FIFO, socket or device)' },
    { type: 'problem', problem: { path: 'secret.bin', stage: 'transfer', code: 'permission-denied', message: 'cannot read: Permission denied' } },
    { type: 'dir-done', path: '', outcome: 'incomplete', problems: 1 },
    { type: 'dir-start', path: 'logs' },
    { type: 'dir-done', path: 'logs', outcome: 'complete', problems: 0 },
    {
      type: 'done',
      summary: summary({
        exitCode: 23,
        problems: [{ path: 'secret.bin', stage: 'transfer', code: 'permission-denied', message: 'cannot read: Permission denied' }],
      }),
    },
  ];
}

/** What a --dry-run sends: the plan, item by item, then its totals. */
export function dryRunEvents(): RunEvent[] {
  return [
    { type: 'planned', item: { change: 'mkdir', path: 'logs/' } },
    { type: 'planned', item: { change: 'resume', path: 'ckpt.pt', bytes: 1024, detail: 'at 40%' } },
    { type: 'planned', item: { change: 'delete', path: EVIL } },
    {
      type: 'dry-run-done',
      summary: { filesToTransfer: 1, bytesToTransfer: 1024, upToDate: 4, toDelete: [EVIL], filesToDelete: 1, deleteRefused: '--delete would remove 1 files, more than --max-delete 0: nothing was deleted', problems: [], durationMs: 120, exitCode: 25 },
    },
  ];
}
