import ssh2 from 'ssh2';
import type { Client as ClientType, ClientChannel, SFTPWrapper } from 'ssh2';
import type { Duplex } from 'node:stream';
import { GsyncError } from '../errors/GsyncError.js';
import { prepareAuth, type Authenticator, type Credential } from './auth.js';
import { checkHostKey, hostKeyName, preferredHostKeyAlgorithms } from './hostKeyPolicy.js';
import { choosePrompter, type Prompter } from './prompt.js';
import type { ConnectSpec } from './spec.js';
import { openProxyCommand, openTcp, type Transport } from './transport.js';

/**
 * What the first connection of a run learned, so that every worker connection follows the same
 * route without asking anyone again: the host key of each hop and of the target (pinned), and
 * the login that worked for each. Keyed by `user@name`. Holds secrets: workers only.
 */
export interface Trust {
  readonly hostKeys: Readonly<Record<string, Uint8Array>>;
  readonly credentials: Readonly<Record<string, Credential>>;
}

/** An open SSH connection with its SFTP channel. */
export interface Session {
  readonly sftp: SFTPWrapper;
  readonly trust: Trust;
  close(): void;
  /** Fires once if the connection dies after it was established. */
  onClose(listener: (error: GsyncError) => void): void;
  /** Once the connection died (not closed by us): why. Undefined while it is up. */
  closeReason(): Promise<GsyncError> | undefined;
}

export interface ConnectOptions {
  /** A worker's connection: pin these keys, replay these logins, prompt nobody. */
  readonly trust?: Trust;
  /** Where SSH_ASKPASS and friends are read from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

const { Client } = ssh2;

/** Time a person gets to answer prompts during the handshake (passphrase, password, unknown host). */
const PROMPT_ALLOWANCE_MS = 10 * 60_000;

/** Opens a connection as ssh would (jump hosts and proxy commands included), or throws a GsyncError that says what to do. */
export async function openSession(spec: ConnectSpec, options: ConnectOptions = {}): Promise<Session> {
  const learned: { hostKeys: Record<string, Uint8Array>; credentials: Record<string, Credential> } = { hostKeys: {}, credentials: {} };
  const link = await openLink(spec, options, learned, 0);
  try {
    const sftp = await openSftp(link.client, spec);
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

const MAX_HOPS = 16;

async function openLink(spec: ConnectSpec, options: ConnectOptions, learned: Learned, depth: number): Promise<Link> {
  if (depth > MAX_HOPS) throw new GsyncError('usage', `ProxyJump for ${spec.alias} nests more than ${MAX_HOPS} hops deep`, { hint: 'check ProxyJump for a loop' });
  const route = spec.route;
  if (route.kind === 'jump') {
    const [first, ...rest] = route.hops;
    if (!first) throw new GsyncError('usage', `ProxyJump for ${spec.alias} names no host`);
    const below: Link[] = [];
    try {
      below.push(await openLink(first, options, learned, depth + 1));
      let via = first;
      for (const next of [...rest, spec]) {
        const stream = await forward(below.at(-1) as Link, via, next);
        const link = await handshake(next, fromStream(stream), options, learned);
        if (next === spec) return stack(link, below);
        below.push(link);
        via = next;
      }
    } catch (error) {
      for (const link of below.reverse()) link.close();
      throw error;
    }
  }
  const transport = route.kind === 'command' ? openProxyCommand(spec, route.command) : await openTcp(spec);
  return handshake(spec, transport, options, learned);
}

interface Learned {
  hostKeys: Record<string, Uint8Array>;
  credentials: Record<string, Credential>;
}

/** A link whose close also closes the hops it runs through. */
function stack(link: Link, below: readonly Link[]): Link {
  return {
    client: link.client,
    lastError: link.lastError,
    close: () => {
      link.close();
      for (const hop of [...below].reverse()) hop.close();
    },
  };
}

function fromStream(stream: Duplex): Transport {
  return { stream, failure: () => Promise.resolve(undefined), close: () => stream.destroy() };
}

/** A direct-tcpip channel from a hop to the next host, as `ssh -W host:port` opens it. */
function forward(hop: Link, via: ConnectSpec, next: ConnectSpec): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    hop.client.forwardOut('127.0.0.1', 0, next.host, next.port, (error, channel) => {
      if (!error) {
        resolve(channel);
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
}

/** SSH handshake and login over a transport: host key checked, then the logins tried in ssh's order. */
async function handshake(spec: ConnectSpec, transport: Transport, options: ConnectOptions, learned: Learned): Promise<Link> {
  const id = `${spec.user}@${hostKeyName(spec)}`;
  const pinned = options.trust?.hostKeys[id];
  const remembered = options.trust?.credentials[id];
  const prompter: Prompter | undefined = options.trust ? undefined : choosePrompter(options.env ?? process.env, spec.batchMode);
  const auth = await prepareAuth(spec, prompter, remembered);
  const client = new Client();
  let hostKeyProblem: GsyncError | undefined;

  const verifier = (key: Buffer, done: (ok: boolean) => void): void => {
    checkHostKey(spec, key, pinned ? Buffer.from(pinned) : undefined, prompter).then(
      () => {
        learned.hostKeys[id] = Buffer.from(key);
        done(true);
      },
      (error: GsyncError) => {
        hostKeyProblem = error;
        done(false);
      },
    );
  };

  // Listening from the start: an 'error' with no listener would crash the process.
  let lastError: Error | undefined;
  client.on('error', (error) => {
    lastError = error;
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error & { level?: string }): void => {
      // Only a broken stream can have a better explanation than ssh2's.
      const explained = hostKeyProblem || error.level === 'client-authentication' ? Promise.resolve(undefined) : transport.failure();
      void explained.then((failure) => {
        transport.close();
        reject(hostKeyProblem ?? failure ?? connectError(spec, error, auth));
      });
    };
    client.once('ready', () => {
      client.off('error', fail);
      resolve();
    });
    client.once('error', fail);
    client.connect({
      sock: transport.stream,
      username: spec.user,
      readyTimeout: spec.connectTimeoutMs + (prompter ? PROMPT_ALLOWANCE_MS : 0),
      keepaliveInterval: spec.keepaliveIntervalMs,
      keepaliveCountMax: spec.keepaliveCountMax,
      hostVerifier: verifier,
      authHandler: auth.handler,
      algorithms: algorithmsOf(spec),
    });
  });
  const credential = auth.succeeded();
  if (credential) learned.credentials[id] = credential;
  return {
    client,
    lastError: async () => (await transport.failure()) ?? lastError,
    close: () => {
      client.end();
      transport.close();
    },
  };
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
  const listeners: Array<(error: GsyncError) => void> = [];
  // ssh2 emits 'close' before it fails the requests still pending, so the reason is known
  // (if not yet worked out) by the time anyone catches one of those failures.
  link.client.once('close', () => {
    if (closedByUs) return;
    reason = link.lastError().then((lastError) => lostError(spec, lastError));
    void reason.then((error) => {
      for (const listener of listeners) listener(error);
    });
  });
  return {
    sftp,
    trust,
    close: () => {
      closedByUs = true;
      link.close();
    },
    onClose: (listener) => listeners.push(listener),
    closeReason: () => reason,
  };
}

/** Why an established connection ended: a dead link noticed by keepalives is a timeout. */
function lostError(spec: ConnectSpec, lastError: (Error & { level?: string }) | undefined): GsyncError {
  if (lastError instanceof GsyncError) return lastError;
  const hint = 'run the same command again once the host is reachable: finished files are kept';
  if (lastError?.level === 'client-timeout') {
    const seconds = (spec.keepaliveIntervalMs * (spec.keepaliveCountMax + 1)) / 1000;
    return new GsyncError('timeout', `no answer to ${spec.keepaliveCountMax} keepalives from ${spec.alias} in ${seconds} s: the link is down`, { hint, cause: lastError });
  }
  return new GsyncError('network', `connection to ${spec.alias} lost${lastError ? `: ${lastError.message}` : ''}`, { hint, cause: lastError });
}

function openSftp(client: ClientType, spec: ConnectSpec): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    client.sftp((error, sftp) => {
      if (error) {
        reject(
          new GsyncError('sftp', `${spec.alias} accepted the SSH login but has no SFTP subsystem (${error.message})`, {
            hint:
              'this endpoint carries a shell only, as relayed or web-terminal SSH services do: use the direct TCP endpoint of the host, ' +
              'or ask its admin to enable "Subsystem sftp" in sshd_config',
            cause: error,
          }),
        );
        return;
      }
      resolve(sftp);
    });
  });
}

function connectError(spec: ConnectSpec, error: Error & { level?: string }, auth: Authenticator): GsyncError {
  if (error instanceof GsyncError) return error;
  if (error.level === 'client-authentication') return authError(spec, auth);
  if (/too many authentication failures/i.test(error.message)) {
    return new GsyncError('auth', `${spec.alias} closed the login after too many attempts (tried ${auth.tried().join(', ') || 'nothing'})`, {
      hint: `the server counts every key offered (MaxAuthTries): set IdentitiesOnly yes and the right IdentityFile for Host ${spec.alias}, so only that key is offered`,
    });
  }
  if (error.level === 'client-timeout') {
    return new GsyncError('timeout', `the SSH handshake with ${spec.alias} timed out after ${spec.connectTimeoutMs / 1000} s`, {
      hint: 'the host accepted the connection but did not answer as an SSH server; check the Port',
      cause: error,
    });
  }
  return new GsyncError('network', `SSH connection to ${spec.alias} failed: ${error.message}`, {
    hint: 'check that the host runs an SSH server on that port',
    cause: error,
  });
}

/** Which logins were tried and which were passed over, and the likeliest fix; never a secret. */
function authError(spec: ConnectSpec, auth: Authenticator): GsyncError {
  const tried = auth.tried();
  const skipped = auth.skipped();
  const parts = [tried.length > 0 ? `tried ${tried.join(', ')}` : 'nothing to try: no usable key, no agent key'];
  if (skipped.length > 0) parts.push(`passed over ${skipped.join('; ')}`);
  const hints: string[] = [];
  const tooOpen = skipped.find((s) => s.includes('chmod 600'));
  if (tooOpen) hints.push(tooOpen.slice(tooOpen.indexOf('run chmod')).replace(/^run /, 'run ').replace(/\)$/, ''));
  if (spec.certificateFiles.length > 0) {
    hints.push(`this Host uses CertificateFile (${spec.certificateFiles.join(', ')}), and gsync cannot log in with SSH certificates (ssh2 lacks them): authorise a plain key on the host`);
  }
  if (spec.batchMode && skipped.some((s) => s.includes('passphrase'))) hints.push('BatchMode is on, so nothing is asked: load the key into ssh-agent first');
  hints.push(`check IdentityFile and User for Host ${spec.alias} in ~/.ssh/config, or that ssh-agent holds the key`);
  return new GsyncError('auth', `authentication as ${spec.user} on ${spec.alias} failed (${parts.join('; ')})`, { hint: hints.join('; ') });
}
