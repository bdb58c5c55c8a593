import { appendFile, chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sshdDirPrefix } from './runTag.js';
import { generateKeyPair } from './sshKeys.js';
import { renderClientHost, renderSshdConfig, sshdVersion } from './sshdConfig.js';
import { launchSshd, type SshdProcess } from './sshdProcess.js';
import { testUser, type TestUser } from './testUser.js';
import { makeTempDir, removeTempDir } from './tmp.js';

/** A real OpenSSH server on 127.0.0.1, and a client-side HOME that trusts it and can log in. */
export interface Sshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** 'gsync-test': a Host in home/.ssh/config. */
  readonly alias: string;
  /** Who the client logs in as. */
  readonly user: TestUser;
  /** Throwaway HOME for the client: .ssh/config, .ssh/known_hosts, .ssh/id_ed25519(.pub). */
  readonly home: string;
  /** home/.ssh/config */
  readonly configPath: string;
  /** home/.ssh/known_hosts, holds "[127.0.0.1]:PORT ssh-ed25519 AAAA..." */
  readonly knownHostsPath: string;
  /** home/.ssh/id_ed25519 (client key, no passphrase, mode 0600) */
  readonly identityPath: string;
  /** "ssh-ed25519 AAAA..." (public host key, no host part) */
  readonly hostKeyLine: string;
  /** The second host key's "type AAAA..." line, when one was asked for. */
  readonly extraHostKeyLine: string | undefined;
  /** A directory owned by `user` where tests write remote trees. */
  readonly dataDir: string;
  /** sshd's own log (LogLevel VERBOSE); gone after stop(). */
  readonly logPath: string;
  /** process.env with HOME=home and no ssh-agent: the env to run the client with. */
  readonly env: NodeJS.ProcessEnv;
  /**
   * Adds `Host <name>` to the config pointing at 127.0.0.1:<port> (e.g. a proxy in front of this
   * sshd) and a known_hosts line for [127.0.0.1]:<port> with the same host key.
   */
  addAlias(name: string, port: number): Promise<void>;
  /** Appends a public key line to the server's authorized_keys. */
  authorizeKey(publicKeyLine: string): Promise<void>;
  /** Kills sshd (and its children), removes every temp dir it made. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a private sshd. Layout of its one temp dir (0755 so the login user can reach
 * server/authorized_keys and data/):
 *   server/  sshd_config, ssh_host_ed25519_key(.pub), authorized_keys (0644), sshd.log
 *   home/    .ssh/{config, known_hosts, id_ed25519, id_ed25519.pub}   (0700: the client's)
 *   data/    owned by the login user
 * Note that OpenSSH's own `ssh` takes ~ from the passwd entry, not $HOME: run it with
 * `-F configPath`; the config names every file by absolute path.
 */
export interface SshdOptions {
  user?: TestUser;
  /** false: sshd offers no sftp subsystem (a shell-only endpoint). */
  sftp?: boolean;
  /** The host key's type (default ed25519). */
  hostKeyType?: 'ed25519' | 'ecdsa';
  /** sshd's MaxAuthTries (default 20). */
  maxAuthTries?: number;
  /** sshd's AuthenticationMethods (default: any one method). */
  authenticationMethods?: string;
  /** A second host key of this type, offered too (its line is `extraHostKeyLine`). */
  extraHostKeyType?: 'ed25519' | 'ecdsa';
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const user = options.user ?? testUser();
  const root = await makeTempDir(sshdDirPrefix());
  try {
    return await startIn(root, user, options);
  } catch (error) {
    await removeTempDir(root);
    throw error;
  }
}

async function startIn(root: string, user: TestUser, options: SshdOptions): Promise<Sshd> {
  const asRoot = process.getuid?.() === 0;
  const server = join(root, 'server');
  const home = join(root, 'home');
  const sshDir = join(home, '.ssh');
  const dataDir = join(root, 'data');
  await chmod(root, 0o755);
  await mkdir(server, { mode: 0o755 });
  await mkdir(sshDir, { recursive: true, mode: 0o700 });
  await mkdir(dataDir, { mode: 0o755 });
  await chmod(server, 0o755);
  await chmod(dataDir, 0o755);
  if (asRoot) await chown(dataDir, user.uid, user.gid);

  const hostKeyPath = join(server, `ssh_host_${options.hostKeyType ?? 'ed25519'}_key`);
  const identityPath = join(sshDir, 'id_ed25519');
  const extraHostKeyPath = options.extraHostKeyType && join(server, `ssh_host_${options.extraHostKeyType}_extra_key`);
  const [hostKeyLine, extraHostKeyLine, clientKeyLine, [major, minor]] = await Promise.all([
    generateKeyPair(hostKeyPath, { type: options.hostKeyType ?? 'ed25519' }),
    extraHostKeyPath ? generateKeyPair(extraHostKeyPath, { type: options.extraHostKeyType ?? 'ed25519' }) : undefined,
    generateKeyPair(identityPath),
    sshdVersion(),
  ]);
  const authorizedKeysPath = join(server, 'authorized_keys');
  await writeFile(authorizedKeysPath, `${clientKeyLine}\n`, { mode: 0o644 });
  await chmod(authorizedKeysPath, 0o644);
  await chmod(identityPath, 0o600);

  const logPath = join(server, 'sshd.log');
  const daemon: SshdProcess = await launchSshd({
    configPath: join(server, 'sshd_config'),
    logPath,
    renderConfig: (port) =>
      renderSshdConfig({
        port,
        hostKeyPath,
        ...(extraHostKeyPath ? { extraHostKeyPaths: [extraHostKeyPath] } : {}),
        authorizedKeysPath,
        disablePenalties: major > 9 || (major === 9 && minor >= 8),
        ...(options.sftp === undefined ? {} : { sftp: options.sftp }),
        ...(options.maxAuthTries === undefined ? {} : { maxAuthTries: options.maxAuthTries }),
        ...(options.authenticationMethods === undefined ? {} : { authenticationMethods: options.authenticationMethods }),
      }),
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });

  const configPath = join(sshDir, 'config');
  const knownHostsPath = join(sshDir, 'known_hosts');
  const alias = 'gsync-test';
  const addAlias = async (name: string, port: number): Promise<void> => {
    await appendFile(configPath, renderClientHost({ alias: name, port, user: user.name, identityPath, knownHostsPath }));
    await appendFile(knownHostsPath, `[127.0.0.1]:${port} ${hostKeyLine}\n`);
  };
  try {
    await writeFile(configPath, '', { mode: 0o600 });
    await writeFile(knownHostsPath, '', { mode: 0o600 });
    await addAlias(alias, daemon.port);
  } catch (error) {
    await daemon.stop();
    throw error;
  }

  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env['SSH_AUTH_SOCK'];
  delete env['SSH_AGENT_PID'];
  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port: daemon.port,
    alias,
    user,
    home,
    configPath,
    knownHostsPath,
    identityPath,
    hostKeyLine,
    extraHostKeyLine,
    dataDir,
    logPath,
    env,
    addAlias,
    authorizeKey: (line) => appendFile(authorizedKeysPath, `${line}\n`),
    stop: () =>
      (stopping ??= (async () => {
        await daemon.stop();
        await removeTempDir(root);
      })()),
  };
}
