import type { SFTPWrapper } from 'ssh2';

/**
 * SFTP v3 replies written byte by byte (draft-ietf-secsh-filexfer-02). ssh2's own server
 * methods cannot say what a hostile server says: `name()` writes every filename as UTF-8 from a
 * JS string (no invalid UTF-8, no raw bytes) and `attrs()` wraps times silently. ssh2 still
 * parses the requests; only the replies are ours.
 */

export const Status = { ok: 0, eof: 1, noSuchFile: 2, permissionDenied: 3, failure: 4, opUnsupported: 8 } as const;

const Reply = { version: 2, status: 101, handle: 102, data: 103, name: 104, attrs: 105, extendedReply: 201 } as const;
const AttrFlag = { size: 0x1, permissions: 0x4, acmodtime: 0x8 } as const;

/** File attributes as they go on the wire. `size` may exceed 2^53 (a bigint); times are SFTP v3's uint32. */
export interface WireAttrs {
  readonly size?: number | bigint;
  /** Type bits included (S_IFREG | 0644...). */
  readonly mode?: number;
  readonly mtime?: number;
}

export interface WireName {
  /** Raw bytes: the server decides, not UTF-8. */
  readonly filename: Buffer;
  readonly attrs: WireAttrs;
}

function uint32(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`sftpWire: ${value} does not fit SFTP's uint32`);
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(value);
  return buf;
}

function string(bytes: Buffer): Buffer {
  return Buffer.concat([uint32(bytes.length), bytes]);
}

export function encodeAttrs(attrs: WireAttrs): Buffer {
  let flags = 0;
  const parts: Buffer[] = [];
  if (attrs.size !== undefined) {
    flags |= AttrFlag.size;
    const size = Buffer.alloc(8);
    size.writeBigUInt64BE(BigInt(attrs.size));
    parts.push(size);
  }
  if (attrs.mode !== undefined) {
    flags |= AttrFlag.permissions;
    parts.push(uint32(attrs.mode));
  }
  if (attrs.mtime !== undefined) {
    flags |= AttrFlag.acmodtime;
    parts.push(uint32(attrs.mtime), uint32(attrs.mtime));
  }
  return Buffer.concat([uint32(flags), ...parts]);
}

function packet(type: number, reqid: number, body: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from([type]), uint32(reqid), body]);
  return Buffer.concat([uint32(payload.length), payload]);
}

export const statusPacket = (reqid: number, code: number, message = ''): Buffer =>
  packet(Reply.status, reqid, Buffer.concat([uint32(code), string(Buffer.from(message)), string(Buffer.alloc(0))]));

export const handlePacket = (reqid: number, handle: Buffer): Buffer => packet(Reply.handle, reqid, string(handle));

/** VERSION 3 with extensions (name → data), as OpenSSH's sftp-server sends it; ssh2's own server sends none. */
export function versionPacket(extensions: Record<string, string>): Buffer {
  const pairs = Object.entries(extensions).flatMap(([name, data]) => [string(Buffer.from(name)), string(Buffer.from(data))]);
  const payload = Buffer.concat([Buffer.from([Reply.version]), uint32(3), ...pairs]);
  return Buffer.concat([uint32(payload.length), payload]);
}

/** The reply to limits@openssh.com: four uint64 (packet, read, write lengths; open handles). */
export function limitsReplyPacket(reqid: number, limits: { packet: number; read: number; write: number; handles: number }): Buffer {
  const body = Buffer.alloc(32);
  [limits.packet, limits.read, limits.write, limits.handles].forEach((value, i) => body.writeBigUInt64BE(BigInt(value), i * 8));
  return packet(Reply.extendedReply, reqid, body);
}

export const dataPacket = (reqid: number, data: Buffer): Buffer => packet(Reply.data, reqid, string(data));

export const attrsPacket = (reqid: number, attrs: WireAttrs): Buffer => packet(Reply.attrs, reqid, encodeAttrs(attrs));

export function namePacket(reqid: number, names: readonly WireName[]): Buffer {
  const body = names.flatMap((n) => [string(n.filename), string(Buffer.alloc(0)), encodeAttrs(n.attrs)]);
  return packet(Reply.name, reqid, Buffer.concat([uint32(names.length), ...body]));
}

/** The bytes namePacket would take for one name: to cut long listings into packets the client accepts (256 KiB). */
export const nameBytes = (n: WireName): number => 4 + n.filename.length + 4 + encodeAttrs(n.attrs).length;

/** ssh2's SFTP channel internals this file writes through (the same ones its own replies use). */
interface ChannelInternals {
  _buffer: Buffer[];
  _waitWindow: boolean;
  _chunkcb: (() => void) | undefined;
  _protocol: { channelData(id: number, data: Buffer): void };
  outgoing: { id: number; state: string; window: number; packetSize: number };
}

/**
 * Sends a ready packet on the channel, honouring the SSH window exactly as ssh2's own
 * sendOrBuffer does (lib/protocol/SFTP.js, not exported): what the window cannot take waits in
 * the same `_buffer` ssh2 drains when the client adjusts the window, so our packets and ssh2's
 * stay in order.
 */
export function send(sftp: SFTPWrapper, payload: Buffer): void {
  const channel = sftp as unknown as ChannelInternals;
  if (channel._buffer.length > 0) {
    channel._buffer.push(payload);
    return;
  }
  const rest = tryWrite(channel, payload);
  if (rest !== undefined) channel._buffer.push(rest);
}

function tryWrite(channel: ChannelInternals, payload: Buffer): Buffer | undefined {
  const out = channel.outgoing;
  if (out.state !== 'open') return undefined;
  let p = 0;
  while (p < payload.length && out.window > 0) {
    const n = Math.min(payload.length - p, out.window, out.packetSize);
    out.window -= n;
    channel._protocol.channelData(out.id, payload.subarray(p, p + n));
    p += n;
  }
  if (p === payload.length) return undefined;
  channel._waitWindow = true;
  channel._chunkcb = function (this: ChannelInternals) {
    drain(this);
  };
  return payload.subarray(p);
}

function drain(channel: ChannelInternals): void {
  channel._chunkcb = undefined;
  const queue = channel._buffer;
  for (let i = 0; i < queue.length; i++) {
    const payload = queue[i] as Buffer;
    const rest = tryWrite(channel, payload);
    if (rest !== undefined) {
      channel._buffer = [rest, ...queue.slice(i + 1)];
      return;
    }
  }
  channel._buffer = [];
}
