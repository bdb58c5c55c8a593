import { describe, expect, it } from 'vitest';
import { classify, entryRefusal, localIoError, verdictOf, type Verdict } from '../../src/errors/classify.js';
import type { ProblemCode } from '../../src/core/types.js';
import { GsyncError, type ErrorKind } from '../../src/errors/GsyncError.js';

/** Errors shaped as each source makes them: ssh2's SFTP status errors carry a numeric code, its connection errors a level. */
function sftpStatus(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}
function errno(code: string, syscall = 'write'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, errno: -1 });
}
function ssh2Level(level: string, message: string): Error {
  return Object.assign(new Error(message), { level });
}
function sqlite(code: string): Error {
  return Object.assign(new Error(code.toLowerCase()), { name: 'SqliteError', code });
}

const transient = (kind: ErrorKind = 'network'): Verdict => ({ severity: 'transient', kind });
const permanent = (problem: ProblemCode): Verdict => ({ severity: 'permanent', kind: 'remote-io', problem });
const fatal = (kind: ErrorKind): Verdict => ({ severity: 'fatal', kind });

describe('verdictOf: every failure is transient, permanent for its entry, or fatal', () => {
  const rows: Array<[string, unknown, Verdict]> = [
    // SFTP status codes: a refusal for one path, except where they describe the link or the protocol.
    ['SFTP EOF (1)', sftpStatus(1, 'End of file'), permanent('io')],
    ['SFTP no such file (2)', sftpStatus(2, 'No such file'), permanent('not-found')],
    ['SFTP permission denied (3)', sftpStatus(3, 'Permission denied'), permanent('permission-denied')],
    ['SFTP failure (4)', sftpStatus(4, 'Failure'), permanent('io')],
    ['SFTP bad message (5)', sftpStatus(5, 'Bad message'), fatal('protocol')],
    ['SFTP no connection (6)', sftpStatus(6, 'No connection'), transient()],
    ['SFTP connection lost (7)', sftpStatus(7, 'Connection lost'), transient()],
    ['SFTP operation unsupported (8)', sftpStatus(8, 'Operation unsupported'), permanent('io')],
    ['an SFTP status no version defines', sftpStatus(99, 'Unknown status'), permanent('io')],
    // ssh2: requests failed because their channel ended, and connection-level errors.
    ['ssh2 "No response from server" (channel gone)', new Error('No response from server'), transient()],
    ['a request failed as its SFTP channel closed', new Error('the SFTP channel closed'), transient()],
    ['ssh2 socket error', ssh2Level('client-socket', 'read ECONNRESET'), transient()],
    ['ssh2 DNS error', ssh2Level('client-dns', 'getaddrinfo EAI_AGAIN'), transient()],
    ['ssh2 keepalive timeout', ssh2Level('client-timeout', 'Keepalive timeout'), transient('timeout')],
    ['ssh2 authentication failure', ssh2Level('client-authentication', 'All configured authentication methods failed'), fatal('auth')],
    ['ssh2 handshake failure (no common cipher)', ssh2Level('handshake', 'no matching cipher'), fatal('protocol')],
    ['ssh2 protocol error', ssh2Level('protocol', 'Bad packet length'), fatal('protocol')],
    // Node errnos: socket ones are the link, file ones the destination.
    ['ECONNRESET', errno('ECONNRESET', 'read'), transient()],
    ['ECONNREFUSED (reconnecting)', errno('ECONNREFUSED', 'connect'), transient()],
    ['EPIPE', errno('EPIPE'), transient()],
    ['EHOSTUNREACH', errno('EHOSTUNREACH', 'connect'), transient()],
    ['ETIMEDOUT', errno('ETIMEDOUT', 'connect'), transient('timeout')],
    ['ENOSPC: the local disk is full', errno('ENOSPC'), fatal('local-io')],
    ['EDQUOT: over quota', errno('EDQUOT'), fatal('local-io')],
    ['EROFS: read-only destination', errno('EROFS', 'open'), fatal('local-io')],
    ['EACCES: destination not writable', errno('EACCES', 'open'), fatal('local-io')],
    ['EPERM locally', errno('EPERM', 'rename'), fatal('local-io')],
    ['EIO: the disk failed', errno('EIO'), fatal('local-io')],
    ['EMFILE: out of descriptors', errno('EMFILE', 'open'), fatal('local-io')],
    ['SQLite: disk full', sqlite('SQLITE_FULL'), fatal('local-io')],
    ['SQLite: read-only state file', sqlite('SQLITE_READONLY'), fatal('local-io')],
    // Errors gsync already classified keep their kind.
    ['GsyncError auth', new GsyncError('auth', 'refused'), fatal('auth')],
    ['GsyncError hostkey', new GsyncError('hostkey', 'changed'), fatal('hostkey')],
    ['GsyncError network', new GsyncError('network', 'lost'), transient()],
    ['GsyncError timeout (stall)', new GsyncError('timeout', 'stalled'), transient('timeout')],
    ['GsyncError local-io', new GsyncError('local-io', 'full'), fatal('local-io')],
    ['GsyncError protocol', new GsyncError('protocol', 'too much data'), fatal('protocol')],
    ['GsyncError interrupted', new GsyncError('interrupted', 'SIGINT'), fatal('interrupted')],
    ['GsyncError remote-io', new GsyncError('remote-io', 'refused'), permanent('io')],
  ];
  it.each(rows)('%s', (_name, error, want) => expect(verdictOf(error)).toEqual(want));
});

describe('classify: the error the user sees', () => {
  it('keeps a GsyncError as it is', () => {
    const error = new GsyncError('hostkey', 'changed');
    expect(classify(error)).toBe(error);
  });

  it('says the disk is full, with the errno kept for the run to add the space needed', () => {
    const error = classify(Object.assign(errno('ENOSPC'), { path: '/data/out/x.bin' }));
    expect(error.exitCode).toBe(11);
    expect(error.errno).toBe('ENOSPC');
    expect(error.message).toBe('the disk is full: cannot write the destination: ENOSPC (/data/out/x.bin)');
    expect(error.hint).toMatch(/free some space/);
  });

  it('says a read-only destination is read-only', () => {
    const error = localIoError(errno('EROFS', 'open'), 'cannot create /mnt/ro/.gsync');
    expect(error.message).toBe('the destination is read-only: cannot create /mnt/ro/.gsync: EROFS');
    expect(error.exitCode).toBe(11);
  });

  it('a lost channel is a connection failure the user may retry (exit 10)', () => {
    const error = classify(new Error('No response from server'));
    expect(error.kind).toBe('network');
    expect(error.exitCode).toBe(10);
    expect(error.hint).toMatch(/run the same command again/);
  });

  it('a protocol breach says so (exit 12)', () => {
    expect(classify(sftpStatus(5, 'Bad message')).exitCode).toBe(12);
  });
});

describe('entryRefusal: what is recorded against one listed entry', () => {
  it('a path no longer found was deleted since its listing: vanished', () => {
    expect(entryRefusal(sftpStatus(2, 'No such file'), 'cannot read')).toStrictEqual({ code: 'vanished', message: 'deleted on the server after it was listed' });
  });

  it('a refusal keeps the server\'s reason after what was being done', () => {
    expect(entryRefusal(sftpStatus(3, 'Permission denied'), 'cannot list directory')).toStrictEqual({
      code: 'permission-denied',
      message: 'cannot list directory: Permission denied',
    });
  });

  it('the link or the local disk is not one entry\'s problem', () => {
    expect(entryRefusal(new Error('No response from server'), 'cannot read')).toBeUndefined();
    expect(entryRefusal(errno('ENOSPC'), 'cannot read')).toBeUndefined();
  });
});
