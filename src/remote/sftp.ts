import type { Attributes, FileEntryWithStats, SFTPWrapper } from 'ssh2';
import type { EntryKind } from '../core/types.js';

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02, section 7). */
export const SftpStatus = { eof: 1, noSuchFile: 2, permissionDenied: 3, failure: 4 } as const;

/** An SFTP request the server refused, with the status it gave. */
export interface SftpError extends Error {
  code?: number | string;
}

/** True when the error is a per-path refusal by the server, not a broken connection. */
export function isSftpStatus(error: unknown): error is SftpError {
  return typeof (error as SftpError | undefined)?.code === 'number';
}

export function kindOf(mode: number): EntryKind {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

/** Per channel, the requests still waiting for an answer: failed together when the channel ends. */
const waiting = new WeakMap<SFTPWrapper, Set<(error: Error) => void>>();

function waitersOf(sftp: SFTPWrapper): Set<(error: Error) => void> {
  let set = waiting.get(sftp);
  if (!set) {
    const pending = new Set<(error: Error) => void>();
    const ended = (): void => {
      for (const fail of pending) fail(new Error('the SFTP channel closed'));
      pending.clear();
    };
    sftp.once('end', ended);
    sftp.once('close', ended);
    waiting.set(sftp, pending);
    set = pending;
  }
  return set;
}

/**
 * One SFTP request as a promise that also fails when the channel ends first. ssh2 fails the
 * requests pending when its channel closes, but keeps, and never answers, any made after (its
 * own readdir makes several in a row): without this, a dropped link could leave a listing
 * waiting forever. One pair of listeners per channel, not per request: reads are the hot path.
 */
function request<T>(sftp: SFTPWrapper, start: (done: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    if ((sftp as SFTPWrapper & { readable?: boolean }).readable === false) {
      reject(new Error('the SFTP channel is closed'));
      return;
    }
    const waiters = waitersOf(sftp);
    waiters.add(reject);
    start((error, value) => {
      waiters.delete(reject);
      if (error) reject(error);
      else resolve(value);
    });
  });
}

export const stat = (sftp: SFTPWrapper, path: string): Promise<Attributes> => request(sftp, (done) => sftp.stat(path, done));

export const opendir = (sftp: SFTPWrapper, path: string): Promise<Buffer> => request(sftp, (done) => sftp.opendir(path, done));

/** One READDIR on an open directory: the next batch of names, or undefined at the end. */
export const readdirBatch = (sftp: SFTPWrapper, handle: Buffer): Promise<FileEntryWithStats[] | undefined> =>
  request(sftp, (done) =>
    sftp.readdir(handle, (error, list) => {
      if ((error as SftpError | undefined)?.code === SftpStatus.eof) done(undefined, undefined);
      else done(error, list);
    }),
  );

export const readlink = (sftp: SFTPWrapper, path: string): Promise<string> => request(sftp, (done) => sftp.readlink(path, done));

export const openRead = (sftp: SFTPWrapper, path: string): Promise<Buffer> => request(sftp, (done) => sftp.open(path, 'r', done));

export const fstat = (sftp: SFTPWrapper, handle: Buffer): Promise<Attributes> => request(sftp, (done) => sftp.fstat(handle, done));

export const closeHandle = (sftp: SFTPWrapper, handle: Buffer): Promise<void> =>
  request<void>(sftp, (done) => sftp.close(handle, () => done(undefined, undefined))).catch(() => undefined);

/** One READ; resolves with the bytes read, 0 at end of file. */
export const read = (sftp: SFTPWrapper, handle: Buffer, buffer: Buffer, length: number, position: number): Promise<number> =>
  request(sftp, (done) => sftp.read(handle, buffer, 0, length, position, (error, bytesRead) => done(error, bytesRead)));
