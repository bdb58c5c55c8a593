import { closeSync, openSync, writeSync } from 'node:fs';
import { printable } from '../../core/printable.js';
import { GsyncError } from '../../errors/GsyncError.js';
import { describeFailure } from '../failure.js';
import type { Level } from './lines.js';
import { plainRenderer } from './plain.js';
import type { Clock, Renderer } from './renderer.js';

export interface LogFile extends Renderer {
  close(): void;
}

export interface LogFileOptions {
  /** -v adds a line per directory, as on stdout; --quiet does not apply: the log says everything. */
  readonly level: Exclude<Level, 'quiet'>;
  /** Where a failure to write the log is said (once). */
  readonly warn: (line: string) => void;
  readonly now?: Clock;
}

/**
 * --log-file: the plain lines (what a pipe would get, stdout and stderr together) appended to
 * PATH, each after an ISO 8601 UTC timestamp; the file is made 0600 when missing, since the paths
 * of a mirror are nobody else's business. A log that cannot be opened stops the command before
 * it starts (exit 11); one that cannot be written later is said once on stderr and the run goes on.
 */
export function openLogFile(path: string, options: LogFileOptions): LogFile {
  const now = options.now ?? Date.now;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    throw new GsyncError('local-io', `cannot open the log file ${path}: ${errnoOf(error)}`, {
      hint: '--log-file needs a file it may create or append to, in a directory that exists',
      cause: error,
      ...(errno === undefined ? {} : { errno }),
    });
  }
  const line = (text: string): void => {
    if (fd === undefined) return;
    try {
      writeSync(fd, `${new Date(now()).toISOString()} ${text}\n`);
    } catch (error) {
      options.warn(`gsync: cannot write the log file ${printable(path)}: ${errnoOf(error)}; nothing more is logged`);
      closeQuietly(fd);
      fd = undefined;
    }
  };
  const plain = plainRenderer({ level: options.level, out: line, err: line, now });
  return {
    emit: (event) => plain.emit(event),
    failed(error: unknown): void {
      for (const text of describeFailure(error, false).lines) line(text);
    },
    close(): void {
      if (fd !== undefined) closeQuietly(fd);
      fd = undefined;
    },
  };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing left to tell it.
  }
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}
