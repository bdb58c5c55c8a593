import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey, SFTPWrapper } from 'ssh2';
import {
  attrsPacket,
  dataPacket,
  handlePacket,
  limitsReplyPacket,
  namePacket,
  nameBytes,
  send,
  Status,
  statusPacket,
  versionPacket,
  type WireAttrs,
  type WireName,
} from './sftpWire.js';
import { DEFAULT_MTIME, modeOf, rawName, type DirNode, type Entry, type FileNode, type Node } from './vfs.js';

const { Server, utils } = ssh2;

/** Where the served tree hangs on the server: the client pulls `<alias>:/srv/tree`. */
export const SERVED_ROOT = '/srv/tree';

/**
 * Server-controlled text with escapes in it, sent wherever the protocol carries free text (the
 * login banner, every error STATUS): none of it may reach the client's terminal raw.
 */
export const HOSTILE_TEXT = '\x1b[2J\x1b[1;31mhostile\x1b[0m\r\x07';

export interface ServerBehaviour {
  /** The SFTP subsystem request is never answered: on every connection, or on all but the first. */
  readonly stallSftp?: 'every' | 'after-first';
  /** Offers limits@openssh.com with this max-read-length. */
  readonly readLimit?: number;
  /**
   * Answers exec requests (gsync's `tar -c ... -T -`) with this stream and exit status, given the
   * NUL-separated names the client sent on stdin. Without it, exec is refused, as a server
   * without a shell refuses it.
   */
  readonly tar?: (names: readonly string[]) => ExecAnswer;
  /**
   * Answers gsync's tree listing (`xargs -0 ... find ...`) with this stream and exit status, given
   * the root it sent on stdin. Without it, that exec is refused.
   */
  readonly tree?: (root: string) => ExecAnswer;
}

export interface ExecAnswer {
  readonly stdout: Buffer;
  readonly exit: number;
  /** Sends stdout, then nothing more: no exit status, the channel left open. */
  readonly stall?: boolean;
}

export interface LoggedRequest {
  readonly type: string;
  readonly path: string;
}

export interface HostileServer {
  readonly port: number;
  /** Replaces the served tree (and forgets what was opened and listed), for a run that sees another tree. */
  serve(tree: DirNode): void;
  /** Every SFTP request received, in order, with the path it named (or the handle's path). */
  readonly requests: LoggedRequest[];
  close(): Promise<void>;
}

export interface HostileServerOptions {
  /** A private host key in OpenSSH format (ssh-keygen's output). */
  readonly hostKey: Buffer;
  /** The client's public key line ("ssh-ed25519 AAAA..."): the only login accepted. */
  readonly clientPublicKey: string;
  readonly user: string;
  readonly tree: DirNode;
  readonly behaviour?: ServerBehaviour;
}

/** An ssh2 server on 127.0.0.1 (port 0) that serves a virtual tree over SFTP, misbehaving as the tree says. */
export async function startHostileServer(options: HostileServerOptions): Promise<HostileServer> {
  const allowed = utils.parseKey(options.clientPublicKey);
  if (allowed instanceof Error) throw allowed;
  const clientKey = Array.isArray(allowed) ? (allowed[0] as ParsedKey) : allowed;
  const fs = new ServedTree(options.tree);
  const requests: LoggedRequest[] = [];
  const connections = new Set<Connection>();
  let sftpSessions = 0;

  const server = new Server({ hostKeys: [options.hostKey], banner: `welcome ${HOSTILE_TEXT}\r\n` }, (client) => {
    connections.add(client);
    // As gsync does on its side: without it, each reply's tail waits out Nagle and delayed ACKs (~40 ms).
    (client as Connection & { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
    client.on('error', () => undefined); // a client killed mid-run resets the socket
    client.on('close', () => connections.delete(client));
    client.on('authentication', (ctx) => authenticate(ctx, options.user, clientKey));
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (acceptExec, rejectExec, info) => {
          requests.push({ type: 'exec', path: info.command });
          const { tar, tree } = options.behaviour ?? {};
          const answer = info.command.startsWith('tar ') ? tar : info.command.startsWith('xargs ') && tree ? (names: readonly string[]) => tree(names[0] ?? '') : undefined;
          if (!answer) return void rejectExec();
          const channel = acceptExec();
          const input: Buffer[] = [];
          channel.on('data', (chunk: Buffer) => input.push(chunk));
          channel.on('error', () => undefined);
          channel.once('end', () => {
            const names = Buffer.concat(input).toString('utf8').split('\0').filter((name) => name !== '');
            const { stdout, exit, stall } = answer(names);
            channel.write(stdout);
            if (stall) return;
            channel.exit(exit);
            channel.end();
          });
        });
        session.on('sftp', (acceptSftp) => {
          sftpSessions++;
          const stall = options.behaviour?.stallSftp;
          if (stall === 'every' || (stall === 'after-first' && sftpSessions > 1)) return; // never answered
          const sftp = acceptSftp();
          sftp.on('error', () => undefined);
          const readLimit = options.behaviour?.readLimit;
          if (readLimit !== undefined) offerLimits(sftp, readLimit);
          serveSftp(sftp, fs, requests);
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    requests,
    serve: (tree) => fs.reset(tree),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of connections) (client as unknown as { _sock?: Socket })._sock?.destroy();
        server.close(() => resolve());
      }),
  };
}

function authenticate(ctx: AuthContext, user: string, key: ParsedKey): void {
  if (ctx.method !== 'publickey' || ctx.username !== user) {
    ctx.reject(['publickey']);
    return;
  }
  const sameKey = ctx.key.algo === key.type && ctx.key.data.equals(key.getPublicSSH());
  if (!sameKey) {
    ctx.reject(['publickey']);
    return;
  }
  // Without a signature the client only asks whether this key would do.
  if (ctx.signature === undefined) {
    ctx.accept();
    return;
  }
  if (ctx.blob !== undefined && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) ctx.accept();
  else ctx.reject(['publickey']);
}

/** Where a path leads: the entry as a listing or LSTAT shows it, and what STAT/OPEN/OPENDIR reach through it. */
interface Found {
  readonly path: string;
  readonly parent: DirNode | undefined;
  readonly shown: Node;
  /** Undefined for a symlink: the server follows none of its own links (they dangle for STAT). */
  readonly followed: Node | undefined;
}

/** The tree plus what the clients did to it so far: opens per file, directories listed to the end. */
class ServedTree {
  #root: DirNode;
  #opens = new Map<FileNode, number>();
  #listed = new Set<DirNode>();

  constructor(root: DirNode) {
    this.#root = root;
  }

  reset(root: DirNode): void {
    this.#root = root;
    this.#opens = new Map();
    this.#listed = new Set();
  }

  /** Normalised absolute path components; relative paths hang from the login directory /home/user. */
  static components(path: string): string[] {
    const out: string[] = path.startsWith('/') ? [] : ['home', 'user'];
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') out.pop();
      else out.push(part);
    }
    return out;
  }

  find(path: string): Found | undefined {
    const parts = ServedTree.components(path);
    const rootParts = ServedTree.components(SERVED_ROOT);
    if (parts.length < rootParts.length || rootParts.some((p, i) => parts[i] !== p)) return undefined;
    let found: Found = { path: SERVED_ROOT, parent: undefined, shown: this.#root, followed: this.#root };
    for (const part of parts.slice(rootParts.length)) {
      const dir = found.followed;
      if (dir?.kind !== 'dir') return undefined;
      const entry = dir.entries.find((e) => e.name.toString('utf8') === part);
      if (!entry) return undefined;
      const shown = this.shownIn(dir, entry);
      const followed = entry.node.kind === 'symlink' ? undefined : entry.node;
      found = { path: `${found.path}/${part}`, parent: dir, shown, followed };
    }
    return found;
  }

  shownIn(dir: DirNode, entry: Entry): Node {
    return entry.later !== undefined && this.#listed.has(dir) ? entry.later : entry.node;
  }

  listedToTheEnd(dir: DirNode): void {
    this.#listed.add(dir);
  }

  /** The content and mtime a file has now: changed by every OPEN when it has `reopen`. */
  version(node: FileNode): { content: Buffer; mtime: number } {
    const opens = this.#opens.get(node) ?? 0;
    return opens > 0 && node.reopen ? node.reopen(opens) : { content: node.content, mtime: node.mtime };
  }

  open(node: FileNode): { content: Buffer; mtime: number } {
    this.#opens.set(node, (this.#opens.get(node) ?? 0) + 1);
    return this.version(node);
  }

  attrsOf(node: Node): WireAttrs {
    if (node.kind === 'file') {
      const now = this.version(node);
      return { size: node.announcedSize ?? now.content.length, mode: modeOf(node), mtime: now.mtime };
    }
    return { size: node.kind === 'symlink' ? rawName(node.target).length : 4096, mode: modeOf(node), mtime: node.mtime };
  }
}

type OpenHandle =
  | { readonly kind: 'file'; readonly path: string; readonly node: FileNode; readonly content: Buffer; readonly mtime: number }
  | { readonly kind: 'dir'; readonly path: string; readonly node: DirNode; sent: number; endlessNext: number };

/** Names per packet stay well under the 256 KiB a client takes in one SFTP packet. */
const NAME_PACKET_BYTES = 100 * 1024;
/** An endless listing's names per reply, each this long: a flood of distinct, plausible names. */
export const ENDLESS_NAMES_PER_REPLY = 500;
const ENDLESS_NAME_LENGTH = 100;

const WRITE_FLAGS = 0x02 | 0x04 | 0x08 | 0x10 | 0x20; // WRITE, APPEND, CREAT, TRUNC, EXCL

/** ssh2's server channel internals offerLimits goes through. */
interface ServerChannel {
  outgoing: { id: number };
  _protocol: { channelData(id: number, data: Buffer): void };
}

/**
 * Makes the channel's VERSION offer limits@openssh.com and answers that request with `read` as
 * max-read-length. ssh2's server writes a fixed VERSION without extensions: the one channelData
 * call carrying it is rewritten (the override removes itself), the rest pass untouched.
 */
function offerLimits(sftp: SFTPWrapper, read: number): void {
  const channel = sftp as unknown as ServerChannel;
  const protocol = channel._protocol;
  const original = protocol.channelData;
  protocol.channelData = function (this: unknown, id: number, data: Buffer): void {
    // VERSION is the first packet the channel sends: type 2 after the length.
    if (id === channel.outgoing.id && data[4] === 2) {
      protocol.channelData = original;
      original.call(this, id, versionPacket({ 'limits@openssh.com': '1' }));
      return;
    }
    original.call(this, id, data);
  };
  sftp.on('EXTENDED', (reqid: number, name: string) => {
    if (name === 'limits@openssh.com') send(sftp, limitsReplyPacket(reqid, { packet: 256 * 1024, read, write: read, handles: 64 }));
    else send(sftp, statusPacket(reqid, Status.opUnsupported, 'unsupported'));
  });
}

function serveSftp(sftp: SFTPWrapper, tree: ServedTree, requests: LoggedRequest[]): void {
  const handles = new Map<number, OpenHandle>();
  let nextHandle = 0;
  const newHandle = (state: OpenHandle): Buffer => {
    const id = nextHandle++;
    handles.set(id, state);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id);
    return buf;
  };
  const handleOf = (handle: Buffer): OpenHandle | undefined => (handle.length === 4 ? handles.get(handle.readUInt32BE(0)) : undefined);
  const status = (reqid: number, code: number, text: string): void => send(sftp, statusPacket(reqid, code, code === Status.eof ? text : `${text} ${HOSTILE_TEXT}`));
  const log = (type: string, path: string): void => {
    requests.push({ type, path });
  };

  sftp.on('REALPATH', (reqid, path) => {
    log('REALPATH', path);
    const resolved = `/${ServedTree.components(path).join('/')}`;
    send(sftp, namePacket(reqid, [{ filename: Buffer.from(resolved), attrs: {} }]));
  });

  const statLike = (type: 'STAT' | 'LSTAT') => (reqid: number, path: string) => {
    log(type, path);
    const found = tree.find(path);
    const node = type === 'STAT' ? found?.followed : found?.shown;
    if (!node) return status(reqid, Status.noSuchFile, 'no such file');
    send(sftp, attrsPacket(reqid, tree.attrsOf(node)));
  };
  sftp.on('STAT', statLike('STAT'));
  sftp.on('LSTAT', statLike('LSTAT'));

  sftp.on('READLINK', (reqid, path) => {
    log('READLINK', path);
    const node = tree.find(path)?.shown;
    if (node?.kind !== 'symlink') return status(reqid, Status.failure, 'not a symlink');
    send(sftp, namePacket(reqid, [{ filename: rawName(node.target), attrs: {} }]));
  });

  sftp.on('OPENDIR', (reqid, path) => {
    log('OPENDIR', path);
    const found = tree.find(path);
    if (!found?.followed) return status(reqid, Status.noSuchFile, 'no such directory');
    if (found.followed.kind !== 'dir') return status(reqid, Status.failure, 'not a directory');
    if (found.followed.refuseOpendir) return status(reqid, Status.permissionDenied, 'permission denied');
    send(sftp, handlePacket(reqid, newHandle({ kind: 'dir', path: found.path, node: found.followed, sent: 0, endlessNext: 0 })));
  });

  sftp.on('READDIR', (reqid, handle) => {
    const open = handleOf(handle);
    log('READDIR', open?.path ?? '?');
    if (open?.kind !== 'dir') return status(reqid, Status.failure, 'bad handle');
    const dir = open.node;
    if (dir.stallReaddir) return; // never answered
    if (dir.endless) {
      const names = Array.from({ length: ENDLESS_NAMES_PER_REPLY }, () => endlessName(open.endlessNext++));
      return send(sftp, namePacket(reqid, names));
    }
    const all: WireName[] = [
      { filename: Buffer.from('.'), attrs: tree.attrsOf(dir) },
      { filename: Buffer.from('..'), attrs: { size: 4096, mode: 0o040755, mtime: DEFAULT_MTIME } },
      ...dir.entries.map((entry) => ({ filename: entry.name, attrs: tree.attrsOf(tree.shownIn(dir, entry)) })),
    ];
    if (open.sent >= all.length) {
      tree.listedToTheEnd(dir);
      return status(reqid, Status.eof, 'end of directory');
    }
    const batch: WireName[] = [];
    let bytes = 0;
    for (const name of all.slice(open.sent)) {
      if (batch.length > 0 && bytes + nameBytes(name) > NAME_PACKET_BYTES) break;
      batch.push(name);
      bytes += nameBytes(name);
    }
    open.sent += batch.length;
    send(sftp, namePacket(reqid, batch));
  });

  sftp.on('OPEN', (reqid, path, flags) => {
    log('OPEN', path);
    if ((flags & WRITE_FLAGS) !== 0) return status(reqid, Status.permissionDenied, 'read-only server');
    const found = tree.find(path);
    const node = found?.followed;
    if (!found || !node) return status(reqid, Status.noSuchFile, 'no such file');
    if (node.kind !== 'file') return status(reqid, Status.failure, 'not a regular file');
    if (node.stallOpen) return; // never answered
    if (node.refuseOpen) return status(reqid, Status.permissionDenied, 'permission denied');
    const version = tree.open(node);
    send(sftp, handlePacket(reqid, newHandle({ kind: 'file', path: found.path, node, ...version })));
  });

  sftp.on('READ', (reqid, handle, offset, length) => {
    const open = handleOf(handle);
    if (open?.kind !== 'file') return status(reqid, Status.failure, 'bad handle');
    log('READ', open.path);
    const reply = open.node.readReply
      ? open.node.readReply(open.content, offset, length)
      : offset >= open.content.length
        ? 'eof'
        : open.content.subarray(offset, offset + length);
    if (reply === 'eof') return status(reqid, Status.eof, 'end of file');
    send(sftp, dataPacket(reqid, reply));
  });

  sftp.on('FSTAT', (reqid, handle) => {
    const open = handleOf(handle);
    log('FSTAT', open?.path ?? '?');
    if (!open) return status(reqid, Status.failure, 'bad handle');
    if (open.kind === 'dir') return send(sftp, attrsPacket(reqid, tree.attrsOf(open.node)));
    send(sftp, attrsPacket(reqid, { size: open.node.announcedSize ?? open.content.length, mode: modeOf(open.node), mtime: open.mtime }));
  });

  sftp.on('CLOSE', (reqid, handle) => {
    if (handle.length === 4) handles.delete(handle.readUInt32BE(0));
    send(sftp, statusPacket(reqid, Status.ok));
  });

  // Anything that would change the server: refused, and logged so a test can see it was tried.
  for (const type of ['WRITE', 'SETSTAT', 'FSETSTAT', 'MKDIR', 'RMDIR', 'REMOVE', 'RENAME', 'SYMLINK'] as const) {
    (sftp as unknown as NodeJS.EventEmitter).on(type, (reqid: number, path: unknown) => {
      log(type, typeof path === 'string' ? path : '?');
      status(reqid, Status.permissionDenied, 'read-only server');
    });
  }
}

function endlessName(n: number): WireName {
  const stem = `endless-${String(n).padStart(9, '0')}-`;
  return { filename: Buffer.from(stem.padEnd(ENDLESS_NAME_LENGTH, 'x')), attrs: { size: 1, mode: 0o100644, mtime: DEFAULT_MTIME } };
}
