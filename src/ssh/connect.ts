import ssh2 from 'ssh2';
import type { Client as ClientType, ClientChannel, SFTPWrapper } from 'ssh2';
import type { Duplex } from 'node:stream';
import { GsyncError } from '../errors/GsyncError.js';
import { ignoreTinyReadLimit, widenReceiveWindow } from '../remote/sftp.js';
import { prepareAuth, type Credential } from './auth.js';
import { closedDuringHandshake, handshakeError, handshakeTimeout, lostError, noSftp, silentSftp } from './connectErrors.js';
import { Deadline } from './deadline.js';
import { checkHostKey, hostKeyName, preferredHostKeyAlgorithms } from './hostKeyPolicy.js';
import { choosePrompter, promptingAfter } from './prompt.js';
import type { ConnectSpec } from './spec.js';
import { CLIENT_SOFTWARE, openProxyCommand, openTcp, type Transport } from './transport.js';

/**
 * What the first connection of a run learned, so that every worker connection follows the same
 * route without asking anyone again: the host key of each hop and of the target (pinned), and
 * the login that worked for each. Keyed by `user@name`. Holds secrets: workers only.
 */
export interface Trust {
  readonly hostKeys: Record<string, Uint8Array>;
  readonly credentials: Record<string, readonly Credential[]>;
}

/** An open SSH connection with its SFTP channel. */
export interface Session {
  readonly sftp: SFTPWrapper;
  readonly trust: Trust;
  /** Runs a command on the server (a constant string: never built from remote names) on a channel of its own. */
  exec(command: string): Promise<ClientChannel>;
  /**
   * Starts `command` now (as exec), for the next exec of the same command to take: its channel's
   * opening and the command's start (two round trips) overlap what comes before. An answer it never
   * gets is a process waiting on its stdin until the connection closes.
   */
  warmExec(command: string): void;
  close(): void;
  /** Closed by us or died: nothing sent on it will be answered. */
  closed(): boolean;
  /** Once the connection died (not closed by us): why. Undefined while it is up. */
  closeReason(): Promise<GsyncError> | undefined;
}

export interface ConnectOptions {
  /** A worker's connection: pin these keys, replay these logins, prompt nobody. */
  readonly trust?: Trust;
  /** Where SSH_ASKPASS and friends are read from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Ctrl+C: gives up connecting at once (exit 20). */
  readonly signal?: AbortSignal;
  /** --timeout: how long a logged-in server may take to answer the SFTP channel's opening (ConnectTimeout bounds it too). */
  readonly answerTimeoutMs?: number;
  /** Told the size of every chunk the outermost transport receives: the run's bytes on the wire. */
  readonly onReceived?: (bytes: number) => void;
  /** No prompt is shown before this resolves; if it rejects, none at all (the prompt fails). */
  readonly promptsAfter?: Promise<void>;
  /**
   * A direct route's TCP connection, opened as soon as the route was known (headStart.ts): the
   * login runs over it instead of opening one, and closes it if it fails first.
   */
  readonly openedAhead?: Promise<Transport>;
}

const { Client } = ssh2;

/** Opens a connection as ssh would (jump hosts and proxy commands included), or throws a GsyncError that says what to do. */
export async function openSession(spec: ConnectSpec, options: ConnectOptions = {}): Promise<Session> {
  const learned: Trust = { hostKeys: {}, credentials: {} };
  const { openedAhead, ...rest } = options;
  let link: Link;
  try {
    link = await openLink(spec, rest, learned, openedAhead);
  } catch (error) {
    // Failed before the login took it, or after (closing twice is harmless): never left open.
    void openedAhead?.then((transport) => transport.close(), () => undefined);
    throw error;
  }
  try {
    const sftp = await openSftp(link.client, spec, Math.min(spec.connectTimeoutMs, options.answerTimeoutMs ?? Infinity));
    return sessionOf(link, sftp, spec, options.trust ?? learned);
  } catch (error) {
    link.close();
    throw error;
  }
}

/** A logged-in client and everything under it (hop clients, a proxy command). */
interface Link {
  readonly client: ClientType;
  lastError(): Promise<Error | undefined>;
  close(): void;
}

/** The target's route: each jump hop logs in in turn, each next one reached through the previous. */
async function openLink(spec: ConnectSpec, options: ConnectOptions, learned: Trust, openedAhead?: Promise<Transport>): Promise<Link> {
  const route = spec.route;
  // Only the outermost transport is counted: a hop's channel carries bytes the hop's own link already brought.
  if (route.kind === 'command') return handshake(spec, () => Promise.resolve(openProxyCommand(spec, route.command)), options, learned, options.onReceived);
  if (route.kind === 'direct') return handshake(spec, () => openedAhead ?? openTcp(spec), options, learned, options.onReceived);
  const [first, ...rest] = route.hops;
  if (!first) throw new GsyncError('usage', `ProxyJump for ${spec.alias} names no host`);
  const hopLinks: Link[] = [];
  try {
    hopLinks.push(await openLink(first, options, learned));
    let via = first;
    for (const next of [...rest, spec]) {
      const hop = hopLinks.at(-1) as Link;
      const link = await handshake(next, async () => fromStream(await forward(hop, via, next)), options, learned);
      if (next === spec) return stacked(link, hopLinks);
      hopLinks.push(link);
      via = next;
    }
  } catch (error) {
    for (const link of hopLinks.reverse()) link.close();
    throw error;
  }
  throw new Error('unreachable: the loop returns at the target');
}

/** A link whose close also closes the hops it runs through. */
function stacked(link: Link, hopLinks: readonly Link[]): Link {
  return {
    client: link.client,
    lastError: link.lastError,
    close: () => {
      link.close();
      for (const hop of [...hopLinks].reverse()) hop.close();
    },
  };
}

function fromStream(stream: Duplex): Transport {
  return { stream, failure: () => Promise.resolve(undefined), close: () => stream.destroy() };
}

/** A direct-tcpip channel from a hop to the next host, as `ssh -W host:port` opens it; bounded by ConnectTimeout. */
function forward(hop: Link, via: ConnectSpec, next: ConnectSpec): Promise<ClientChannel> {
  const channel = new Promise<ClientChannel>((resolve, reject) => {
    hop.client.forwardOut('127.0.0.1', 0, next.host, next.port, (error, opened) => {
      if (!error) {
        resolve(opened);
        return;
      }
      const refused = /refused/i.test(error.message);
      reject(
        new GsyncError(refused ? 'network' : 'proxy', `jump host ${via.alias} could not reach ${next.host}:${next.port}: ${error.message}`, {
          hint: refused
            ? `is sshd running on ${next.host}:${next.port}, as seen from ${via.alias}?`
            : `the jump host must allow TCP forwarding (AllowTcpForwarding in its sshd_config)`,
          cause: error,
        }),
      );
    });
  });
  return Deadline.race(channel, next.connectTimeoutMs, () => new GsyncError('timeout', `jump host ${via.alias} did not open a channel to ${next.host}:${next.port} within ${next.connectTimeoutMs / 1000} s`));
}

/**
 * SSH handshake and login: the logins are planned (agent listed) before the transport opens;
 * the host key is checked; ConnectTimeout bounds it all, except the time a person spends
 * answering a prompt. Ctrl+C gives up at once.
 */
async function handshake(
  spec: ConnectSpec,
  openTransport: () => Promise<Transport>,
  options: ConnectOptions,
  learned: Trust,
  onReceived?: (bytes: number) => void,
): Promise<Link> {
  const id = `${spec.user}@${hostKeyName(spec)}`;
  const pinned = options.trust?.hostKeys[id];
  const deadline = new Deadline(spec.connectTimeoutMs);
  const chosen = options.trust ? undefined : choosePrompter(options.env ?? process.env, spec.batchMode);
  const basePrompter = chosen && options.promptsAfter ? promptingAfter(chosen, options.promptsAfter) : chosen;
  const prompter = basePrompter && deadline.pausedWhile(basePrompter);
  const auth = await prepareAuth(spec, prompter, options.trust?.credentials[id]);
  // Given up before a transport (a ProxyCommand, perhaps) exists: nothing to start, nothing to close.
  if (options.signal?.aborted) throw interruptedConnecting(spec);
  const transport = await openTransport();
  const client = new Client();
  let hostKeyProblem: GsyncError | undefined;
  const verifier = (key: Buffer, done: (ok: boolean) => void): void => {
    checkHostKey(spec, key, pinned ? Buffer.from(pinned) : undefined, prompter).then(
      () => {
        learned.hostKeys[id] = Buffer.from(key);
        done(true);
      },
      (error: unknown) => {
        hostKeyProblem = error instanceof GsyncError ? error : new GsyncError('hostkey', `checking the host key of ${hostKeyName(spec)} failed: ${String(error)}`);
        done(false);
      },
    );
  };

  // Listening from the start: an 'error' with no listener would crash the process.
  let lastError: Error | undefined;
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: GsyncError | (Error & { level?: string })): void => {
        client.off('close', onClose);
        // Only a broken stream can have a better explanation than ssh2's.
        const explained = error instanceof GsyncError || hostKeyProblem || error.level === 'client-authentication' ? Promise.resolve(undefined) : transport.failure();
        void explained.then((failure) => reject(auth.cancelled() ?? hostKeyProblem ?? failure ?? handshakeError(spec, error, auth)));
      };
      const onClose = (): void => fail(closedDuringHandshake(spec));
      const onAbort = (): void => fail(interruptedConnecting(spec));
      deadline.start(() => fail(handshakeTimeout(spec)));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      // Given up while the transport opened.
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      client.once('ready', () => {
        client.off('error', fail);
        client.off('close', onClose);
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      client.once('error', fail);
      client.once('close', onClose);
      if (transport.identSent) skipIdentSentAhead(transport.stream, transport.identSent);
      client.connect({
        sock: transport.stream,
        ident: CLIENT_SOFTWARE,
        username: spec.user,
        readyTimeout: 0,
        keepaliveInterval: spec.keepaliveIntervalMs,
        keepaliveCountMax: spec.keepaliveCountMax,
        hostVerifier: verifier,
        authHandler: auth.handler,
        algorithms: algorithmsOf(spec),
      });
      coalesceWrites(transport.stream);
      // connect() has paused the stream (ssh2 resumes it once its parser listens), so this listener neither starts the flow nor sees a byte ssh2 misses.
      if (onReceived) transport.stream.on('data', (chunk: Buffer) => onReceived(chunk.length));
    });
  } catch (error) {
    client.end();
    transport.close();
    throw error;
  } finally {
    deadline.stop();
  }
  learned.credentials[id] = auth.succeeded();
  return {
    client,
    lastError: async () => (await transport.failure()) ?? lastError,
    close: () => {
      client.end();
      transport.close();
    },
  };
}

function interruptedConnecting(spec: ConnectSpec): GsyncError {
  return new GsyncError('interrupted', `interrupted while connecting to ${spec.alias}`);
}

/** Drops the SSH client's first write, its identification line, which the transport has sent already. */
function skipIdentSentAhead(stream: Duplex, sent: Buffer): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let first = true;
  stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    if (first) {
      first = false;
      if (Buffer.isBuffer(chunk) && chunk.equals(sent)) return true;
    }
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

/**
 * Packets ssh2 writes in one tick leave in one write(v): a listing sends hundreds of small
 * requests at once, and a syscall each cost the no-op run of 20,000 files ~50 ms.
 */
function coalesceWrites(stream: Duplex): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let corked = false;
  stream.write = ((...args: unknown[]): boolean => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(() => {
        corked = false;
        stream.uncork();
      });
    }
    return write(...args);
  }) as typeof stream.write;
}

function algorithmsOf(spec: ConnectSpec): ssh2.Algorithms {
  return {
    serverHostKey: preferredHostKeyAlgorithms(spec) as ssh2.ServerHostKeyAlgorithm[],
    ...(spec.ciphers ? { cipher: spec.ciphers as ssh2.CipherAlgorithm[] } : {}),
    ...(spec.kexAlgorithms ? { kex: spec.kexAlgorithms as ssh2.KexAlgorithm[] } : {}),
  };
}

function sessionOf(link: Link, sftp: SFTPWrapper, spec: ConnectSpec, trust: Trust): Session {
  let closedByUs = false;
  let reason: Promise<GsyncError> | undefined;
  // ssh2 emits 'close' before it fails the requests still pending, so the reason is known
  // (if not yet worked out) by the time anyone catches one of those failures.
  link.client.once('close', () => {
    if (!closedByUs) reason = link.lastError().then((lastError) => lostError(spec, lastError));
  });
  const exec = (command: string): Promise<ClientChannel> =>
    new Promise((resolve, reject) => {
      link.client.exec(command, (error, channel) => (error ? reject(error) : resolve(channel)));
    });
  let warm: { readonly command: string; readonly channel: Promise<ClientChannel> } | undefined;
  return {
    sftp,
    trust,
    exec: (command) => {
      if (warm?.command !== command) return exec(command);
      const { channel } = warm;
      warm = undefined;
      return channel;
    },
    warmExec: (command) => {
      if (warm) return;
      warm = { command, channel: exec(command) };
      // Its failure is met by the exec that takes it.
      warm.channel.catch(() => undefined);
    },
    close: () => {
      closedByUs = true;
      link.close();
    },
    closed: () => closedByUs || reason !== undefined,
    closeReason: () => reason,
  };
}

/**
 * The SFTP channel, bounded by ConnectTimeout and --timeout: a stuck sftp-server, or a relay that
 * accepts the subsystem request but feeds it to a shell, never answers SFTP's version exchange,
 * while sshd still answers keepalives.
 */
function openSftp(client: ClientType, spec: ConnectSpec, timeoutMs: number): Promise<SFTPWrapper> {
  const sftp = new Promise<SFTPWrapper>((resolve, reject) => {
    client.sftp((error, opened) => {
      if (error) {
        reject(noSftp(spec, error.message));
      } else {
        ignoreTinyReadLimit(opened);
        widenReceiveWindow(opened);
        resolve(opened);
      }
    });
  });
  return Deadline.race(sftp, timeoutMs, () => silentSftp(spec, timeoutMs));
}
