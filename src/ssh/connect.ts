import { connect as netConnect, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Client as ClientType, SFTPWrapper } from 'ssh2';
import { GsyncError } from '../errors/GsyncError.js';
import { loadIdentities, makeAuthHandler, type Identities } from './auth.js';
import { appendKnownHost, knownHostsName, knownKeyTypes, readKnownHosts, verifyHostKey } from './knownHosts.js';
import type { ConnectSpec } from './spec.js';

/** An open SSH connection with its SFTP channel. */
export interface Session {
  readonly sftp: SFTPWrapper;
  /** The host key this connection verified: workers pin their own connections to it. */
  readonly hostKey: Buffer;
  close(): void;
  /** Fires once if the connection dies after it was established. */
  onClose(listener: (error: GsyncError) => void): void;
}

export interface ConnectOptions {
  /** Accept exactly this key and read no known_hosts (a worker's connection after the main one verified). */
  readonly pinnedHostKey?: Buffer;
}

const { Client } = ssh2;

/** Opens a connection as ssh would, or throws a GsyncError that says what to do. */
export async function openSession(spec: ConnectSpec, options: ConnectOptions = {}): Promise<Session> {
  if (spec.proxyJump || spec.proxyCommand) {
    throw new GsyncError('usage', `${spec.alias} needs ${spec.proxyJump ? 'ProxyJump' : 'ProxyCommand'}, which gsync does not support yet`, {
      hint: 'reach the host directly for now (e.g. an ssh -L tunnel to a local port and a Host entry for it)',
    });
  }
  const identities = loadIdentities(spec);
  const socket = await openSocket(spec);
  const client = new Client();
  let hostKeyProblem: GsyncError | undefined;
  let hostKey: Buffer | undefined;

  const verifier = (key: Buffer, done: (ok: boolean) => void): void => {
    hostKey = Buffer.from(key);
    checkHostKey(spec, key, options.pinnedHostKey).then(
      () => done(true),
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
      socket.destroy();
      reject(hostKeyProblem ?? connectError(spec, error, identities));
    };
    client.once('ready', () => {
      client.off('error', fail);
      resolve();
    });
    client.once('error', fail);
    client.connect({
      sock: socket,
      username: spec.user,
      readyTimeout: spec.connectTimeoutMs,
      keepaliveInterval: spec.keepaliveIntervalMs,
      keepaliveCountMax: spec.keepaliveCountMax,
      hostVerifier: verifier,
      authHandler: makeAuthHandler(spec, identities),
      algorithms: { serverHostKey: preferredHostKeyAlgorithms(spec) },
    });
  });

  const sftp = await openSftp(client, spec);
  return sessionOf(client, sftp, hostKey ?? Buffer.alloc(0), spec, () => lastError);
}

function sessionOf(client: ClientType, sftp: SFTPWrapper, hostKey: Buffer, spec: ConnectSpec, errorSeen: () => Error | undefined): Session {
  let closedByUs = false;
  const listeners: Array<(error: GsyncError) => void> = [];
  client.once('close', () => {
    const lastError = errorSeen();
    if (closedByUs) return;
    const error = new GsyncError('network', `connection to ${spec.alias} lost${lastError ? `: ${lastError.message}` : ''}`, {
      hint: 'run the same command again: finished files are kept',
      cause: lastError,
    });
    for (const listener of listeners) listener(error);
  });
  return {
    sftp,
    hostKey,
    close: () => {
      closedByUs = true;
      client.end();
    },
    onClose: (listener) => listeners.push(listener),
  };
}

function openSocket(spec: ConnectSpec): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: spec.host, port: spec.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new GsyncError('timeout', `connecting to ${spec.alias} (${spec.host}:${spec.port}) timed out after ${spec.connectTimeoutMs / 1000} s`, {
        hint: 'check that the host is up and reachable; ConnectTimeout in ~/.ssh/config sets the limit',
      }));
    }, spec.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // ssh2 leaves Nagle on; bulk SFTP runs several times slower with it.
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(socketError(spec, error));
    });
  });
}

function openSftp(client: ClientType, spec: ConnectSpec): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    client.sftp((error, sftp) => {
      if (error) {
        client.end();
        reject(new GsyncError('sftp', `${spec.alias} has no SFTP service: ${error.message}`, {
          hint: 'the server must allow the sftp subsystem (Subsystem sftp in its sshd_config)',
          cause: error,
        }));
        return;
      }
      resolve(sftp);
    });
  });
}

async function checkHostKey(spec: ConnectSpec, key: Buffer, pinned: Buffer | undefined): Promise<void> {
  const name = spec.hostKeyAlias ?? knownHostsName(spec.host, spec.port);
  if (pinned) {
    if (pinned.equals(key)) return;
    throw new GsyncError('hostkey', `the host key of ${name} changed during this run`, {
      hint: 'someone may be intercepting the connection; check the host before running again',
    });
  }
  if (spec.strictHostKeyChecking === 'no') return;
  const verdict = verifyHostKey(readKnownHosts(spec.knownHostsFiles), name, key);
  switch (verdict.status) {
    case 'match':
      return;
    case 'revoked':
      throw new GsyncError('hostkey', `the host key of ${name} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}`, {
        hint: 'refusing to connect: this key must not be trusted',
      });
    case 'changed':
      throw new GsyncError('hostkey', `the host key of ${name} changed (known one: ${verdict.entry.file}:${verdict.entry.line})`, {
        hint: `if the instance was recreated, run ssh-keygen -R '${name}' and connect once with ssh to record the new key; otherwise someone may be intercepting the connection`,
      });
    case 'unknown': {
      if (spec.strictHostKeyChecking === 'accept-new' && spec.knownHostsFiles[0]) {
        await appendKnownHost(spec.knownHostsFiles[0], name, key);
        return;
      }
      const hint = verdict.certAuthorityOnly
        ? 'only a @cert-authority line covers this host, and gsync cannot check host certificates yet: add the host key itself to known_hosts'
        : `connect once with 'ssh ${spec.alias}' to check and record its key, or set StrictHostKeyChecking accept-new for this Host`;
      throw new GsyncError('hostkey', `the host key of ${name} is not known`, { hint });
    }
  }
}

const hostKeyAlgorithms = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;
type HostKeyAlgorithm = (typeof hostKeyAlgorithms)[number];

/** Ask for a key type known_hosts already has, as OpenSSH does, so a known host never looks "changed". */
function preferredHostKeyAlgorithms(spec: ConnectSpec): HostKeyAlgorithm[] {
  const name = spec.hostKeyAlias ?? knownHostsName(spec.host, spec.port);
  const known = knownKeyTypes(readKnownHosts(spec.knownHostsFiles), name).flatMap((type) =>
    type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type],
  );
  const first = hostKeyAlgorithms.filter((a) => known.includes(a));
  return [...first, ...hostKeyAlgorithms.filter((a) => !first.includes(a))];
}

function socketError(spec: ConnectSpec, error: NodeJS.ErrnoException): GsyncError {
  const where = `${spec.host}:${spec.port}`;
  switch (error.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      if (!spec.aliasKnown) {
        return new GsyncError('usage', `unknown host alias '${spec.alias}': no Host entry for it in ~/.ssh/config and no such host`, {
          hint: 'add a Host block for it to ~/.ssh/config, or check the spelling',
          cause: error,
        });
      }
      return new GsyncError('network', `cannot resolve ${spec.host} (for ${spec.alias})`, { hint: 'check HostName for this Host and your DNS', cause: error });
    case 'ECONNREFUSED':
      return new GsyncError('network', `connection refused by ${where} (${spec.alias})`, { hint: 'is sshd running there, and is the Port right?', cause: error });
    case 'ETIMEDOUT':
      return new GsyncError('timeout', `connecting to ${where} (${spec.alias}) timed out`, { hint: 'check that the host is up and reachable', cause: error });
    default:
      return new GsyncError('network', `cannot connect to ${where} (${spec.alias}): ${error.code ?? error.message}`, {
        hint: 'check the network path to the host',
        cause: error,
      });
  }
}

function connectError(spec: ConnectSpec, error: Error & { level?: string }, identities: Identities): GsyncError {
  if (error instanceof GsyncError) return error;
  if (error.level === 'client-authentication') {
    const tried = identities.keys.map((k) => k.file);
    const detail = [tried.length ? `tried ${tried.join(', ')}` : 'no usable key found', ...identities.skipped.map((s) => `skipped ${s}`)].join('; ');
    return new GsyncError('auth', `authentication as ${spec.user} on ${spec.alias} failed (${detail})`, {
      hint: `check IdentityFile and User for Host ${spec.alias} in ~/.ssh/config, or that ssh-agent holds the key`,
      cause: error,
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
