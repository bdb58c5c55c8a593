import { GsyncError } from '../errors/GsyncError.js';
import { assembleAlgorithms, CIPHERS, HOST_KEY_ALGORITHMS, KEX_ALGORITHMS, type AlgorithmTable } from './algorithmList.js';
import { connectionTokenTable, pathExpander } from './configTokens.js';
import type { Collected } from './settingsCollector.js';
import type { SshSettings } from './settings.js';

/** ssh's default identities, listed as `ssh -G` prints them (OpenSSH 9.2 still has xmss and dsa). */
const DEFAULT_IDENTITY_FILES: readonly string[] = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map(
  (name) => `~/.ssh/${name}`,
);

export interface FinishContext {
  readonly alias: string;
  /** The host name after HostName, %h, lower-casing and address canonicalisation. */
  readonly host: string;
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  readonly localUser: string;
}

/**
 * What `ssh -G` prints for the options collected: fill_default_options, then ssh.c's tidying
 * (HostKeyAlias lower-cased, `none` lists emptied, `~` and tokens expanded in
 * UserKnownHostsFile and IdentityAgent, the ProxyJump loop check).
 */
export function finishSettings(c: Collected, context: FinishContext): SshSettings {
  const port = c.port ?? 22;
  const user = c.user ?? context.localUser;
  const hostKeyAlias = c.hostKeyAlias?.toLowerCase();
  checkJumpLoop(c, context.host, port, user);
  const expand = pathExpander(connectionTokenTable({ alias: context.alias, hostname: context.host, port, user, hostKeyAlias }, context), context.env, context.home);
  const jump = c.proxyJump === undefined || c.proxyJump === 'none' ? undefined : c.proxyJump;
  return {
    alias: context.alias,
    hostname: context.host,
    port,
    user,
    identityFiles: c.identityFiles.length > 0 ? c.identityFiles.map((f) => f.path) : DEFAULT_IDENTITY_FILES,
    identitiesOnly: c.identitiesOnly ?? false,
    identityAgent: c.identityAgent === undefined ? undefined : expand(c.identityAgent, 'IdentityAgent'),
    certificateFiles: c.certificateFiles.map((f) => f.path),
    proxyJump: jump?.text,
    proxyCommand: jump !== undefined || c.proxyCommand?.toLowerCase() === 'none' ? undefined : c.proxyCommand,
    connectTimeout: c.connectTimeout,
    serverAliveInterval: c.serverAliveInterval ?? 0,
    serverAliveCountMax: c.serverAliveCountMax ?? 3,
    strictHostKeyChecking: c.strictHostKeyChecking ?? 'ask',
    userKnownHostsFiles: noneIsEmpty(c.userKnownHostsFiles ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']).map((f) => expand(f, 'UserKnownHostsFile')),
    globalKnownHostsFiles: noneIsEmpty(c.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
    hostKeyAlias,
    hashKnownHosts: c.hashKnownHosts ?? false,
    batchMode: c.batchMode ?? false,
    pubkeyAuthentication: c.pubkeyAuthentication ?? true,
    passwordAuthentication: c.passwordAuthentication ?? true,
    kbdInteractiveAuthentication: c.kbdInteractiveAuthentication ?? true,
    ciphers: configuredList(CIPHERS, c.ciphers),
    kexAlgorithms: configuredList(KEX_ALGORITHMS, c.kexAlgorithms),
    hostKeyAlgorithms: configuredList(HOST_KEY_ALGORITHMS, c.hostKeyAlgorithms),
  };
}

function noneIsEmpty(files: readonly string[]): readonly string[] {
  return files[0]?.toLowerCase() === 'none' ? [] : files;
}

/** ssh refuses a ProxyJump whose last hop is the destination itself. */
function checkJumpLoop(c: Collected, host: string, port: number, user: string): void {
  if (c.proxyJump === undefined || c.proxyJump === 'none') return;
  const last = c.proxyJump.hops.at(-1);
  if (last && last.host === host && (last.port ?? 22) === port && (last.user ?? user) === user) {
    throw new GsyncError('usage', `ssh config: jumphost loop via ${last.host}`, { hint: 'the ProxyJump of this host names the host itself; add a Host block that sets ProxyJump none for the jump host' });
  }
}

/** The assembled list, or undefined when it is OpenSSH's default. */
function configuredList(table: AlgorithmTable, spec: string | undefined): string[] | undefined {
  let list: string[];
  try {
    list = assembleAlgorithms(table, spec);
  } catch (error) {
    throw new GsyncError('usage', `ssh config: ${(error as Error).message}`, { hint: `fix ${table.keyword} in the ssh config` });
  }
  return list.join(',') === table.defaults.join(',') ? undefined : list;
}
