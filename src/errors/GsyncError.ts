import { ExitCode } from './exitCodes.js';

/** What went wrong, by behaviour: it decides the exit code and whether a retry can help. */
export type ErrorKind =
  | 'usage'
  | 'remote-path'
  | 'local-path'
  | 'auth'
  | 'hostkey'
  | 'sftp'
  | 'proxy'
  | 'network'
  | 'remote-io'
  | 'local-io'
  | 'protocol'
  | 'timeout'
  | 'interrupted'
  | 'locked';

const exitCodeOf: Record<ErrorKind, ExitCode> = {
  usage: ExitCode.usage,
  'remote-path': ExitCode.unusablePath,
  'local-path': ExitCode.unusablePath,
  auth: ExitCode.startFailed,
  hostkey: ExitCode.startFailed,
  sftp: ExitCode.startFailed,
  proxy: ExitCode.startFailed,
  network: ExitCode.connection,
  'remote-io': ExitCode.partial,
  'local-io': ExitCode.localIo,
  protocol: ExitCode.protocol,
  timeout: ExitCode.timeout,
  interrupted: ExitCode.interrupted,
  locked: ExitCode.locked,
};

/**
 * The one error family. `message` says what happened in one line; `hint` says what the user can
 * do about it. Neither ever holds a secret.
 */
export class GsyncError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  /** The errno behind a local-io error (ENOSPC, EROFS…): kept when the error crosses from a worker thread. */
  readonly errno: string | undefined;

  constructor(kind: ErrorKind, message: string, options: { hint?: string; cause?: unknown; errno?: string } = {}) {
    super(message, { cause: options.cause });
    this.name = 'GsyncError';
    this.kind = kind;
    this.hint = options.hint;
    this.errno = options.errno;
  }

  get exitCode(): ExitCode {
    return exitCodeOf[this.kind];
  }
}

export function isGsyncError(value: unknown): value is GsyncError {
  return value instanceof GsyncError;
}
