import type { Attributes, FileEntryWithStats, SFTPWrapper } from 'ssh2';
import type { EntryKind, ProblemCode } from '../core/types.js';

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02, section 7). */
export const SftpStatus = { eof: 1, noSuchFile: 2, permissionDenied: 3, failure: 4 } as const;

/** An SFTP request the server refused, with the status it gave. */
export interface SftpError extends Error {
  code?: number | string;
}

export function sftpProblemCode(error: SftpError): ProblemCode {
  if (error.code === SftpStatus.noSuchFile) return 'not-found';
  if (error.code === SftpStatus.permissionDenied) return 'permission-denied';
  return 'io';
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

export const stat = (sftp: SFTPWrapper, path: string): Promise<Attributes> =>
  new Promise((resolve, reject) => sftp.stat(path, (e, s) => (e ? reject(e) : resolve(s))));

export const readdir = (sftp: SFTPWrapper, path: string): Promise<FileEntryWithStats[]> =>
  new Promise((resolve, reject) => sftp.readdir(path, (e, list) => (e ? reject(e) : resolve(list))));

export const readlink = (sftp: SFTPWrapper, path: string): Promise<string> =>
  new Promise((resolve, reject) => sftp.readlink(path, (e, target) => (e ? reject(e) : resolve(target))));

export const openRead = (sftp: SFTPWrapper, path: string): Promise<Buffer> =>
  new Promise((resolve, reject) => sftp.open(path, 'r', (e, handle) => (e ? reject(e) : resolve(handle))));

export const fstat = (sftp: SFTPWrapper, handle: Buffer): Promise<Attributes> =>
  new Promise((resolve, reject) => sftp.fstat(handle, (e, s) => (e ? reject(e) : resolve(s))));

export const closeHandle = (sftp: SFTPWrapper, handle: Buffer): Promise<void> =>
  new Promise((resolve) => sftp.close(handle, () => resolve()));

/** One READ; resolves with the bytes read, 0 at end of file. */
export const read = (sftp: SFTPWrapper, handle: Buffer, buffer: Buffer, length: number, position: number): Promise<number> =>
  new Promise((resolve, reject) =>
    sftp.read(handle, buffer, 0, length, position, (e, bytesRead) => (e ? reject(e) : resolve(bytesRead))),
  );
