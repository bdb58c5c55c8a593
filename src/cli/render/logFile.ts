import { closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
 * PATH, each after an ISO 8601 UTC timestamp; the file is made 0600 when missing (and the
 * directories above it 0700), since the paths of a mirror are nobody else's business. A log that cannot be opened stops the command before
 * it starts (exit 11); one that cannot be written later is said once on stderr and the run goes on.
 */
export function openLogFile(path: string, options: LogFileOptions): LogFile {
  const now = options.now ?? Date.now;
  let fd: number | undefined = openAppending(path);
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

/** Never through a symlink standing at the log's name: one planted there would have gsync append to any file the user owns. */
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * Missing directories above the log are made (0700): `gsync cron` logs into the destination's
 * .gsync, which its first run has yet to make, and that run's log matters most.
 */
function openAppending(path: string): number {
  try {
    try {
      return openSync(path, APPEND, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
      return openSync(path, APPEND, 0o600);
    }
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    throw new GsyncError('local-io', `cannot open the log file ${path}: ${errnoOf(error)}`, {
      hint: '--log-file needs a file it may create or append to',
      cause: error,
      ...(errno === undefined ? {} : { errno }),
    });
  }
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}
