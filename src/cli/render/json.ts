import type { Problem } from '../../core/types.js';
import { isGsyncError } from '../../errors/GsyncError.js';
import type { RunEvent } from '../../pipeline/events.js';
import { describeFailure } from '../failure.js';
import type { Clock, Renderer } from './renderer.js';
import { speedup } from './summary.js';

/** A JSON consumer draws its own progress: one event a second is plenty, and keeps the stream small. */
export const JSON_PROGRESS_MS = 1000;

export interface JsonOptions {
  /** One line, newline included. */
  readonly write: (line: string) => void;
  readonly now?: Clock;
}

/**
 * --json: newline-delimited JSON on stdout, one object per event, each with "event" and "time"
 * (ISO 8601, UTC). docs/events.md describes every event and field; docs/events.schema.json is
 * the same as a JSON Schema, and the tests hold every line of a real run to it. Names are kept
 * exact (not capped or escaped beyond JSON's own rules), but no raw control character is written.
 */
export function jsonRenderer(options: JsonOptions): Renderer {
  const now = options.now ?? Date.now;
  let progressAt: number | undefined;
  const write = (fields: Record<string, unknown>): void => {
    options.write(`${jsonLine({ ...fields, time: new Date(now()).toISOString() })}\n`);
  };
  return {
    emit(event: RunEvent): void {
      if (event.type === 'progress') {
        const at = now();
        if (progressAt !== undefined && at - progressAt < JSON_PROGRESS_MS) return;
        progressAt = at;
      }
      write(jsonEvent(event));
    },
    failed(error: unknown): void {
      write(errorEvent(error));
    },
  };
}

/** An event as --json prints it (without "time"): "event" first, then its fields, flat. */
export function jsonEvent(event: RunEvent): Record<string, unknown> {
  switch (event.type) {
    case 'start':
      return { event: 'start', runId: event.runId, source: event.source, destination: event.destination };
    case 'dir-start':
      return { event: 'dir-start', path: event.path };
    case 'dir-done':
      return { event: 'dir-done', path: event.path, outcome: event.outcome, problems: event.problems };
    case 'file':
      return { event: 'file', path: event.path, size: event.size, bytes: event.bytes, transfer: event.transfer };
    case 'retry':
      return { event: 'retry', path: event.path, message: event.message, reason: event.reason, attempt: event.attempt, of: event.of, waitMs: event.waitMs };
    case 'notice':
      return { event: 'notice', path: event.path, message: event.message };
    case 'problem':
      return { event: 'problem', ...problemFields(event.problem) };
    case 'progress':
      return {
        event: 'progress',
        bytesDone: event.bytesDone,
        bytesTotal: event.bytesTotal,
        filesDone: event.filesDone,
        filesTotal: event.filesTotal,
        bytesReceived: event.bytesReceived,
        current: event.current ?? null,
      };
    case 'done': {
      const s = event.summary;
      return {
        event: 'summary',
        runId: s.runId,
        exitCode: s.exitCode,
        filesTransferred: s.filesTransferred,
        bytesTransferred: s.bytesTransferred,
        filesSkipped: s.filesSkipped,
        bytesSkipped: s.bytesSkipped,
        dirs: s.dirs,
        symlinks: s.symlinks,
        durationMs: s.durationMs,
        bytesReceived: s.bytesReceived,
        totalSize: s.totalSize,
        speedup: speedup(s) ?? null,
        filesDeleted: s.filesDeleted,
        deleted: s.deleted,
        ...(s.deleteRefused === undefined ? {} : { deleteRefused: s.deleteRefused }),
        problems: s.problems.map(problemFields),
      };
    }
    case 'planned': {
      const { change, path, bytes, detail } = event.item;
      return { event: 'planned', change, path, ...(bytes === undefined ? {} : { bytes }), ...(detail === undefined ? {} : { detail }) };
    }
    case 'dry-run-done': {
      const s = event.summary;
      return {
        event: 'dry-run-summary',
        exitCode: s.exitCode,
        filesToTransfer: s.filesToTransfer,
        bytesToTransfer: s.bytesToTransfer,
        upToDate: s.upToDate,
        filesToDelete: s.filesToDelete,
        toDelete: s.toDelete,
        ...(s.deleteRefused === undefined ? {} : { deleteRefused: s.deleteRefused }),
        durationMs: s.durationMs,
        problems: s.problems.map(problemFields),
      };
    }
  }
}

/** The run ended by throwing: the last line of the stream, in place of "summary". */
export function errorEvent(error: unknown): Record<string, unknown> {
  const { exitCode } = describeFailure(error, false);
  if (!isGsyncError(error)) return { event: 'error', kind: 'internal', message: error instanceof Error ? error.message : String(error), exitCode };
  return { event: 'error', kind: error.kind, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }), exitCode };
}

function problemFields(p: Problem): Record<string, unknown> {
  return { path: p.path, stage: p.stage, code: p.code, message: p.message };
}

/**
 * JSON.stringify escapes C0 controls but writes DEL, the C1 controls (U+0080–U+009F: U+009B is
 * a CSI to some terminals) and U+2028/U+2029 as they are; they are escaped here too, so a
 * server's name can never drive the terminal that shows the stream. The value parses back exactly.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
