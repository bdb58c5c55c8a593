import type { SFTPWrapper } from 'ssh2';
import { sftpPath } from '../core/target.js';
import type { RemoteEntry } from '../core/types.js';
import { GsyncError } from '../errors/GsyncError.js';
import { kindOfMode } from '../core/modes.js';
import { isSftpStatus, SftpStatus, stat } from '../remote/sftp.js';

/** What the remote path names: a tree to mirror, or one file to pull into the destination. */
export type RemoteRoot =
  | { readonly kind: 'dir'; readonly path: string; readonly mtime: number; readonly mode: number }
  | { readonly kind: 'file'; readonly dir: string; readonly entry: RemoteEntry };

export async function resolveRemoteRoot(sftp: SFTPWrapper, alias: string, typed: string): Promise<RemoteRoot> {
  const path = sftpPath(typed);
  let attrs;
  try {
    attrs = await stat(sftp, path);
  } catch (error) {
    if (!isSftpStatus(error)) throw error;
    const missing = error.code === SftpStatus.noSuchFile;
    throw new GsyncError('remote-path', `${alias}:${typed || '~'} ${missing ? 'does not exist' : `cannot be read: ${error.message}`}`, {
      hint: missing ? `check the path with: ssh ${alias} ls -la ${JSON.stringify(typed || '.')}` : 'check the permissions on the remote side',
      cause: error,
    });
  }
  const kind = kindOfMode(attrs.mode);
  if (kind === 'dir') return { kind, path, mtime: attrs.mtime, mode: attrs.mode & 0o7777 };
  if (kind === 'file') {
    const trimmed = path.replace(/\/+$/, '');
    const slash = trimmed.lastIndexOf('/');
    const dir = slash < 0 ? '.' : slash === 0 ? '/' : trimmed.slice(0, slash);
    const name = trimmed.slice(slash + 1);
    return { kind, dir, entry: { name, kind, size: attrs.size, mtime: attrs.mtime, mode: attrs.mode & 0o7777 } };
  }
  throw new GsyncError('remote-path', `${alias}:${typed} is neither a directory nor a regular file`, {
    hint: 'pull a directory or a regular file',
  });
}
