import type { ProblemCode } from '../core/types.js';
import { GsyncError, type ErrorKind } from './GsyncError.js';

/**
 * What the scheduler does about a failure: retry it over a new connection (transient), record
 * it against the one file or directory and go on (permanent), or stop the run, keeping every
 * partial for the next one (fatal).
 */
export type Severity = 'transient' | 'permanent' | 'fatal';

export interface Verdict {
  readonly severity: Severity;
  readonly kind: ErrorKind;
  /** For a permanent failure: what is recorded against the entry. */
  readonly problem?: ProblemCode;
}

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02, section 7): what each says about the path asked for. */
const sftpStatus: Record<number, Verdict> = {
  1: { severity: 'permanent', kind: 'remote-io', problem: 'io' }, // EOF where a file or listing was expected
  2: { severity: 'permanent', kind: 'remote-io', problem: 'not-found' },
  3: { severity: 'permanent', kind: 'remote-io', problem: 'permission-denied' },
  4: { severity: 'permanent', kind: 'remote-io', problem: 'io' }, // the server's generic failure: that path, not the link
  5: { severity: 'fatal', kind: 'protocol' }, // bad message: the server cannot parse what ssh2 sends
  6: { severity: 'transient', kind: 'network' }, // no connection
  7: { severity: 'transient', kind: 'network' }, // connection lost
  8: { severity: 'permanent', kind: 'remote-io', problem: 'io' }, // operation unsupported
};

/** ssh2's `level` on connection errors. */
const ssh2Level: Record<string, Verdict> = {
  'client-socket': { severity: 'transient', kind: 'network' },
  'client-dns': { severity: 'transient', kind: 'network' },
  'client-timeout': { severity: 'transient', kind: 'timeout' },
  'client-authentication': { severity: 'fatal', kind: 'auth' },
  handshake: { severity: 'fatal', kind: 'protocol' },
  protocol: { severity: 'fatal', kind: 'protocol' },
};

const transientNetwork: Verdict = { severity: 'transient', kind: 'network' };
const localFault: Verdict = { severity: 'fatal', kind: 'local-io' };

/** Socket errnos: the link, not the path; a new connection may cure them. */
const networkErrnos = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Local errnos: the destination failed (full, read-only, not ours to write, out of descriptors).
 * Retrying or going on with other files would fail the same way, so the run stops.
 */
const localErrnos = new Set([
  'ENOSPC',
  'EDQUOT',
  'EFBIG',
  'EROFS',
  'EACCES',
  'EPERM',
  'EIO',
  'EBADF',
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'ENAMETOOLONG',
  'ELOOP',
  'EMFILE',
  'ENFILE',
]);

/** A GsyncError's kind already says what it is. */
function verdictOfKind(kind: ErrorKind): Verdict {
  if (kind === 'network' || kind === 'timeout') return { severity: 'transient', kind };
  if (kind === 'remote-io') return { severity: 'permanent', kind, problem: 'io' };
  return { severity: 'fatal', kind };
}

/**
 * The one classification of failures: a pure function of the error's shape. Numeric codes are
 * SFTP statuses (a refusal for one path); string codes are errnos (socket ones for the link,
 * file ones for the local side: ssh2 never reports a remote file's errno as a string) or
 * SQLite's; ssh2's `level` marks connection errors; an Error with none of these is ssh2 failing
 * requests because their channel ended ("No response from server"): the link.
 */
export function verdictOf(error: unknown): Verdict {
  if (error instanceof GsyncError) return verdictOfKind(error.kind);
  const e = error as { code?: unknown; level?: unknown } | null | undefined;
  if (typeof e?.code === 'number') return sftpStatus[e.code] ?? { severity: 'permanent', kind: 'remote-io', problem: 'io' };
  if (typeof e?.level === 'string' && ssh2Level[e.level]) return ssh2Level[e.level] as Verdict;
  if (typeof e?.code === 'string') {
    if (e.code === 'ETIMEDOUT') return { severity: 'transient', kind: 'timeout' };
    if (networkErrnos.has(e.code)) return transientNetwork;
    if (localErrnos.has(e.code) || e.code.startsWith('SQLITE_')) return localFault;
  }
  return transientNetwork;
}

/**
 * A failure that concerns one listed entry alone (the server refused that path), as what is
 * recorded against it; undefined for anything else (the link, the local disk). Every path asked
 * about was in a listing a moment ago: not found means deleted since.
 */
export function entryRefusal(error: unknown, doing: string): { code: ProblemCode; message: string } | undefined {
  const verdict = verdictOf(error);
  if (verdict.severity !== 'permanent') return undefined;
  if (verdict.problem === 'not-found') return { code: 'vanished', message: 'deleted on the server after it was listed' };
  return { code: verdict.problem ?? 'io', message: `${doing}: ${error instanceof Error ? error.message : String(error)}` };
}

/**
 * Anything thrown during a run as the error family, with a message that says what failed.
 * A GsyncError stays as it is.
 */
export function classify(error: unknown): GsyncError {
  if (error instanceof GsyncError) return error;
  const verdict = verdictOf(error);
  const message = error instanceof Error ? error.message : String(error);
  switch (verdict.kind) {
    case 'local-io':
      return localIoError(error, 'cannot write the destination');
    case 'protocol':
      return new GsyncError('protocol', `the server broke the SFTP protocol: ${message}`, {
        hint: 'the server or something between it and gsync is misbehaving; try again, or report it with GSYNC_DEBUG=1',
        cause: error,
      });
    case 'auth':
      return new GsyncError('auth', `the server refused the login: ${message}`, { cause: error });
    case 'remote-io':
      return new GsyncError('remote-io', `the server refused: ${message}`, { cause: error });
    default:
      return new GsyncError(verdict.kind, `the connection failed: ${message}`, {
        hint: 'run the same command again: finished files are kept',
        cause: error,
      });
  }
}

/** Local errnos that mean "no room": the run's end adds how much is free and how much it still needed. */
export function isDiskFull(errno: string | undefined): boolean {
  return errno === 'ENOSPC' || errno === 'EDQUOT' || errno === 'EFBIG' || errno === 'SQLITE_FULL';
}

/** The destination has no room for what comes: `where` says what did not fit. */
export function diskFullError(where: string, options: { cause?: unknown; errno?: string } = {}): GsyncError {
  return new GsyncError('local-io', `the disk is full: ${where}`, {
    errno: 'ENOSPC',
    ...options,
    hint: 'free some space (or choose a destination on a larger disk) and run the same command again: finished files and partials are kept',
  });
}

/** A failed local file operation, as the user sees it: what went wrong, what was being done, the errno, the path. */
export function localIoError(error: unknown, doing: string): GsyncError {
  // Already said where (the state file names itself): kept, not wrapped in a vaguer context.
  if (error instanceof GsyncError) return error;
  const errno = error as NodeJS.ErrnoException | null | undefined;
  const code = typeof errno?.code === 'string' ? errno.code : undefined;
  const detail = code ?? (error instanceof Error ? error.message : String(error));
  const where = `${doing}: ${detail}${errno?.path ? ` (${errno.path})` : ''}`;
  const options = { cause: error, ...(code === undefined ? {} : { errno: code }) };
  if (isDiskFull(code)) return diskFullError(where, options);
  if (code === 'EROFS' || code === 'SQLITE_READONLY') {
    return new GsyncError('local-io', `the destination is read-only: ${where}`, {
      ...options,
      hint: 'choose a destination on a writable file system, or remount it read-write',
    });
  }
  return new GsyncError('local-io', where, {
    ...options,
    hint: 'check free space and permissions on the destination; partial files are kept under .gsync',
  });
}
