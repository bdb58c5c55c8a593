import { GsyncError } from './GsyncError.js';

/** errno codes that mean the local side failed, whatever the connection is doing. */
const localErrnos = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EBADF', 'ENOTDIR', 'EISDIR', 'EMFILE', 'ENFILE']);

/**
 * Maps anything thrown during a run to the error family. A GsyncError stays as it is; a local
 * errno names the destination; anything else came from the SSH/SFTP layer losing its link
 * (ssh2 reports that as plain Errors: "No response from server", a closed channel, a reset).
 */
export function classify(error: unknown): GsyncError {
  if (error instanceof GsyncError) return error;
  const errno = error as NodeJS.ErrnoException | null | undefined;
  if (errno?.code && localErrnos.has(errno.code)) return localIoError(error, 'cannot write the destination');
  const message = error instanceof Error ? error.message : String(error);
  return new GsyncError('network', `the connection failed: ${message}`, {
    hint: 'run the same command again: finished files are kept',
    cause: error,
  });
}

/** A failed local file operation, as the user sees it: what was being done, the errno, the path. */
export function localIoError(error: unknown, doing: string): GsyncError {
  const errno = error as NodeJS.ErrnoException | null | undefined;
  const detail = errno?.code ?? (error instanceof Error ? error.message : String(error));
  return new GsyncError('local-io', `${doing}: ${detail}${errno?.path ? ` (${errno.path})` : ''}`, {
    hint: 'check free space and permissions on the destination; partial files are kept under .gsync',
    cause: error,
  });
}
