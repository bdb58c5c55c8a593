import { runProcess } from './runProcess.js';
import { SSHD_PATH } from './sshdPath.js';

export interface SshdConfigInput {
  /** Default 127.0.0.1; the bench listens on its namespace's address. */
  listenAddress?: string;
  port: number;
  hostKeyPath: string;
  /** More host keys, offered after the first (a server with several key types). */
  extraHostKeyPaths?: readonly string[];
  authorizedKeysPath: string;
  /** Default 20. */
  maxAuthTries?: number;
  /** sshd's AuthenticationMethods, e.g. 'publickey,publickey' (two keys, one after the other). */
  authenticationMethods?: string;
  /** false: no `Subsystem sftp` line, as on a shell-only relay. */
  sftp?: boolean;
  /** OpenSSH >= 9.8 only: the option is a fatal "Bad configuration option" before that. */
  disablePenalties: boolean;
}

/**
 * sshd_config for a throwaway server on 127.0.0.1. Each line is there for a reason:
 * - `StrictModes no`: the keys live under world-writable /tmp, which strict modes reject.
 * - `UsePAM no`: no PAM stack is configured for a test user; sshd checks the account itself.
 * - `PidFile none`: several sshds run at once and none owns /run/sshd.pid.
 * - `MaxStartups`/`MaxSessions 100`: the client under test opens many connections and channels
 *   at once; the defaults (10:30:100 and 10) would refuse some of them at random.
 * - `LogLevel VERBOSE`: startup readiness is detected from "Server listening on ..." (INFO) and
 *   auth failures are explained at VERBOSE.
 * - `PerSourcePenalties no` (new sshds): fault tests drop connections on purpose, which would
 *   otherwise get 127.0.0.1 refused for a while.
 */
export function renderSshdConfig(input: SshdConfigInput): string {
  const lines = [
    `ListenAddress ${input.listenAddress ?? '127.0.0.1'}`,
    `Port ${input.port}`,
    `AddressFamily inet`,
    `HostKey ${input.hostKeyPath}`,
    ...(input.extraHostKeyPaths ?? []).map((path) => `HostKey ${path}`),
    `AuthorizedKeysFile ${input.authorizedKeysPath}`,
    `PubkeyAuthentication yes`,
    `PasswordAuthentication no`,
    `KbdInteractiveAuthentication no`,
    `PermitRootLogin prohibit-password`,
    `UsePAM no`,
    `StrictModes no`,
    `PidFile none`,
    ...(input.sftp === false ? [] : [`Subsystem sftp internal-sftp`]),
    `LogLevel VERBOSE`,
    `MaxStartups 100`,
    `MaxSessions 100`,
    `MaxAuthTries ${input.maxAuthTries ?? 20}`,
    `LoginGraceTime 30`,
    `UseDNS no`,
    `PrintMotd no`,
    `PrintLastLog no`,
    `X11Forwarding no`,
  ];
  if (input.disablePenalties) lines.push('PerSourcePenalties no');
  if (input.authenticationMethods) lines.push(`AuthenticationMethods ${input.authenticationMethods}`);
  return `${lines.join('\n')}\n`;
}

/** One `Host` block of the client's ~/.ssh/config. */
export function renderClientHost(input: {
  alias: string;
  /** Default 127.0.0.1. */
  hostName?: string;
  port: number;
  user: string;
  identityPath: string;
  knownHostsPath: string;
}): string {
  return [
    `Host ${input.alias}`,
    `  HostName ${input.hostName ?? '127.0.0.1'}`,
    `  Port ${input.port}`,
    `  User ${input.user}`,
    `  IdentityFile ${input.identityPath}`,
    `  IdentitiesOnly yes`,
    `  UserKnownHostsFile ${input.knownHostsPath}`,
    `  StrictHostKeyChecking yes`,
    '',
  ].join('\n');
}

let version: Promise<[number, number]> | undefined;

/** The installed sshd's OpenSSH version, from the banner `sshd -V` prints (cached). */
export function sshdVersion(): Promise<[number, number]> {
  version ??= runProcess(SSHD_PATH, ['-V'], { timeoutMs: 10_000 }).then((result) => {
    const match = /OpenSSH_(\d+)\.(\d+)/.exec(result.stderr.toString() + result.stdout.toString());
    return match === null ? [0, 0] : [Number(match[1]), Number(match[2])];
  });
  return version;
}
