import type { Attributes, FileEntryWithStats, SFTPWrapper } from 'ssh2';

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

/** The fields of ssh2's SFTP client this module corrects (lib/protocol/SFTP.js). */
interface Ssh2SftpInternals {
  _requests?: Record<number, { buffer?: Buffer } | undefined>;
  _writeReqid?: number;
  _maxReadLen?: number;
}

/** A READ reply longer than asked: the server broke the protocol for that file. */
export const OVERLONG_READ = 'Received more data than requested';

/**
 * The most one READ asks of this server: ssh2 would split a longer one into several itself, out
 * of read()'s sight. OpenSSH offers 255 KiB through limits@openssh.com; ssh2 assumes less of a
 * server that offers nothing.
 */
export function maxReadLength(sftp: SFTPWrapper): number {
  return (sftp as unknown as Ssh2SftpInternals)._maxReadLen ?? READ_LENGTH_FLOOR;
}

/** The open handles the server allows at once, if it says (limits@openssh.com, which ssh2 reads; its typings omit it). */
export function maxOpenHandles(sftp: SFTPWrapper): number | undefined {
  const allowed = (sftp as { maxOpenHandles?: unknown }).maxOpenHandles;
  return typeof allowed === 'number' && allowed > 0 ? allowed : undefined;
}

/**
 * One READ of up to `length` bytes (at most maxReadLength); resolves with the bytes read, 0 at
 * end of file. `buffer` must be at least one byte longer than `length`: ssh2 copies a DATA reply
 * into a slice exactly as long as asked and drops the rest unseen, so its own "more data than
 * requested" check can never fire. Widening the pending request's slice by that spare byte makes
 * it fire, and an overlong reply fails the READ (with OVERLONG_READ) instead of vanishing.
 */
export const read = (sftp: SFTPWrapper, handle: Buffer, buffer: Buffer, length: number, position: number): Promise<number> =>
  request(sftp, (done) => {
    if (buffer.length <= length) throw new Error(`read: the buffer needs a spare byte beyond the ${length} asked`);
    const asked = Math.min(length, maxReadLength(sftp));
    sftp.read(handle, buffer, 0, asked, position, (error, bytesRead) => done(error, bytesRead));
    const internals = sftp as unknown as Ssh2SftpInternals;
    const pending = internals._writeReqid === undefined ? undefined : internals._requests?.[internals._writeReqid];
    if (pending?.buffer?.length === asked) pending.buffer = buffer.subarray(0, asked + 1);
  });

/**
 * Every SFTP server must take packets of 34,000 bytes (draft-ietf-secsh-filexfer-02, 3); a
 * smaller read length offered through limits@openssh.com would only turn each READ into
 * thousands, so it is ignored. A larger one never loosens gsync's own chunk size.
 */
export const READ_LENGTH_FLOOR = 32 * 1024;

export function ignoreTinyReadLimit(sftp: SFTPWrapper): void {
  const internals = sftp as unknown as Ssh2SftpInternals;
  if (internals._maxReadLen !== undefined && internals._maxReadLen < READ_LENGTH_FLOOR) internals._maxReadLen = READ_LENGTH_FLOOR;
}

/** The fields of an ssh2 channel (lib/Channel.js, lib/protocol/SFTP.js) its receive window lives in. */
interface Ssh2ChannelInternals {
  incoming?: { window?: number };
  outgoing?: { id?: number; state?: string };
  _protocol?: { channelWindowAdjust?: (id: number, amount: number) => void };
  push?: (data: Buffer | null) => unknown;
}

/**
 * What the server may send unacknowledged on one channel. ssh2 keeps 1–2 MiB open, so one
 * channel carries at most ~2 MiB per round trip: ~10 MiB/s at 100 ms, whatever the READs in
 * flight. This is room for the read loop's most (64 × 255 KiB) twice over, so the window never
 * binds: the READs in flight, sized to the link, bound what the server sends.
 */
export const RECEIVE_WINDOW = 32 * 1024 * 1024;

/**
 * Keeps `sftp`'s receive window at `size`: granted at once, and topped up whenever the data
 * received has taken it down to half, which keeps it above ssh2's own 1 MiB threshold (so ssh2
 * never adjusts it). A build of ssh2 without these fields keeps its own window.
 */
export function widenReceiveWindow(sftp: SFTPWrapper, size = RECEIVE_WINDOW): void {
  const channel = sftp as unknown as Ssh2ChannelInternals;
  const { incoming, outgoing, _protocol: protocol, push } = channel;
  if (typeof incoming?.window !== 'number' || typeof outgoing?.id !== 'number' || typeof protocol?.channelWindowAdjust !== 'function' || typeof push !== 'function') return;
  const topUp = (): void => {
    const window = incoming.window ?? size;
    if (outgoing.state !== 'open' || window > size / 2) return;
    incoming.window = size;
    protocol.channelWindowAdjust?.(outgoing.id as number, size - window);
  };
  channel.push = (data: Buffer | null): unknown => {
    const pushed = push.call(sftp, data);
    topUp();
    return pushed;
  };
  topUp();
}
