import { GsyncError } from '../errors/GsyncError.js';

/** `[user@]host:path` as the user typed it. */
export interface RemoteTarget {
  readonly host: string;
  readonly user?: string;
  /** As typed; '' means the login directory. */
  readonly path: string;
}

/**
 * Parses `alias:path`, `user@host:path` and `[v6addr]:path`. As with ssh, the user is everything
 * before the last `@` of the host part, so a user name may itself contain `@`.
 */
export function parseTarget(arg: string): RemoteTarget {
  const match = /^(?:([^:/]+)@)?(\[[^\]]+\]|[^:/[\]@]+):(.*)$/s.exec(arg);
  if (!match) {
    throw new GsyncError('usage', `expected <alias>:<remote-path>, got ${JSON.stringify(arg)}`, {
      hint: 'name a Host from ~/.ssh/config and a path on it, e.g. gsync pull gpu-box:runs/exp1',
    });
  }
  const [, user, rawHost = '', path = ''] = match;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return user === undefined ? { host, path } : { host, user, path };
}

/**
 * The directory name a pull lands in when no local-dir is given: the remote path's last
 * component. Paths without one ('', '.', '~', '/') have no safe default.
 */
export function defaultLocalName(remotePath: string): string | undefined {
  const trimmed = remotePath.replace(/\/+$/, '');
  const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  if (last === '' || last === '.' || last === '..' || last === '~') return undefined;
  return last;
}

/** SFTP resolves relative paths from the login directory, so `~/x` is just `x`. */
export function sftpPath(remotePath: string): string {
  if (remotePath === '' || remotePath === '~') return '.';
  if (remotePath.startsWith('~/')) return remotePath.slice(2) || '.';
  return remotePath;
}
