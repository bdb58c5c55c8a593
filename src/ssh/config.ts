import { homedir, userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { GsyncError } from '../errors/GsyncError.js';
import type { Destination } from './builtinSettings.js';
import { connectionTokenTable, expandOrThrow, pathExpander, percentExpand, tildeExpand } from './configTokens.js';
import { parseJumpHop, type JumpHop } from './proxyJump.js';
import { resolveSettings, resolveSettingsAhead, type ResolveSettingsOptions } from './resolveSettings.js';
import type { SettingsOverrides, SshSettings } from './settings.js';
import type { ConnectSpec, Route } from './spec.js';
import { ssh2Algorithms } from './ssh2Algorithms.js';

/** ssh's flags (-F, -i, -p, -l, -o) and how to resolve them. */
export interface ResolveOptions extends SettingsOverrides, ResolveSettingsOptions {}

/** Deeper than anyone routes on purpose; a loop that slips past the check below ends here. */
const MAX_JUMP_DEPTH = 8;

/**
 * Resolves a target to everything needed to connect, the way OpenSSH would connect to it:
 * settings from `ssh -G` (or the builtin resolver), then every path and token expanded and
 * ProxyJump hops resolved through the same config, each as ssh's own `-J` would.
 */
export function resolveConnectSpec(target: Destination, options: ResolveOptions = {}): ConnectSpec {
  const user = target.user ?? options.user;
  return specFor({ host: target.host, user }, options, { chain: [hopKey(target.host, user, options.port)], ownRoute: true });
}

/** Runs ahead the `ssh -G` that resolveConnectSpec will make for `target` (not its jump hops'): see runSshGAhead. */
export function resolveConnectSpecAhead(target: Destination, options: ResolveOptions = {}): Promise<void> {
  return resolveSettingsAhead({ host: target.host, user: target.user ?? options.user }, options, options);
}

interface HopPlace {
  /** The hops being resolved, outermost first, to catch a ProxyJump loop. */
  readonly chain: readonly string[];
  /** False for a hop after the first: ssh reaches it with -J, which overrides its own ProxyJump/ProxyCommand. */
  readonly ownRoute: boolean;
}

function specFor(destination: Destination, options: ResolveOptions, place: HopPlace): ConnectSpec {
  const { settings, aliasKnown } = resolveSettings(destination, options, options);
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME ?? homedir();
  // ssh expands IdentityFile and CertificateFile when it loads them, so ssh -G prints them as written.
  const expand = pathExpander(connectionTokenTable(settings, { home, localUser: userInfo().username }), env, home);
  return {
    alias: settings.alias,
    host: settings.hostname,
    port: settings.port,
    user: settings.user,
    identityFiles: settings.identityFiles.filter((file) => file.toLowerCase() !== 'none').map((file) => absolute(expand(file, 'IdentityFile'))),
    identitiesOnly: settings.identitiesOnly,
    agentSocket: agentSocketOf(settings.identityAgent, env),
    certificateFiles: settings.certificateFiles.map((file) => absolute(expand(file, 'CertificateFile'))),
    knownHostsFiles: withoutDevNull(settings.userKnownHostsFiles),
    // ssh expands only `~` in GlobalKnownHostsFile.
    globalKnownHostsFiles: withoutDevNull(settings.globalKnownHostsFiles).map((file) => expandOrThrow('GlobalKnownHostsFile', file, () => tildeExpand(file, home))),
    strictHostKeyChecking: settings.batchMode && settings.strictHostKeyChecking === 'ask' ? 'yes' : settings.strictHostKeyChecking,
    hostKeyAlias: settings.hostKeyAlias,
    hashKnownHosts: settings.hashKnownHosts,
    batchMode: settings.batchMode,
    pubkeyAuthentication: settings.pubkeyAuthentication,
    passwordAuthentication: settings.passwordAuthentication,
    kbdInteractiveAuthentication: settings.kbdInteractiveAuthentication,
    // ConnectTimeout 0 is "no timeout" to ssh; gsync always bounds a connect.
    connectTimeoutMs: (settings.connectTimeout || 30) * 1000,
    keepaliveIntervalMs: (settings.serverAliveInterval || 15) * 1000,
    keepaliveCountMax: settings.serverAliveCountMax,
    route: place.ownRoute ? routeOf(settings, options, place) : { kind: 'direct' },
    ciphers: narrowed(settings, 'ciphers', 'Ciphers'),
    kexAlgorithms: narrowed(settings, 'kexAlgorithms', 'KexAlgorithms'),
    hostKeyAlgorithms: narrowed(settings, 'hostKeyAlgorithms', 'HostKeyAlgorithms'),
    aliasKnown,
    ...(options.configFile === undefined ? {} : { configFile: options.configFile }),
  };
}

/** ssh reads a relative key path from the current directory; workers may not share it. */
function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(path);
}

/** A known_hosts list of `/dev/null` is the same as none. */
function withoutDevNull(files: readonly string[]): string[] {
  return files.filter((file) => file !== '/dev/null');
}

/** IdentityAgent: `none`, the literal `SSH_AUTH_SOCK` or `$VAR` (read from the environment), or a path. */
function agentSocketOf(value: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (value === 'none') return undefined;
  if (value === undefined || value === 'SSH_AUTH_SOCK') return env.SSH_AUTH_SOCK || undefined;
  if (value.startsWith('$')) return env[value.slice(1)] || undefined;
  return value;
}

/** The configured list, without what ssh2 cannot negotiate; undefined keeps gsync's defaults. */
function narrowed(settings: SshSettings, field: 'ciphers' | 'kexAlgorithms' | 'hostKeyAlgorithms', keyword: string): string[] | undefined {
  const configured = settings[field];
  if (configured === undefined) return undefined;
  const supported = ssh2Algorithms()[field];
  const usable = configured.filter((name) => supported.includes(name));
  if (usable.length === 0) {
    throw new GsyncError('usage', `none of the ${keyword} configured for ${settings.alias} is one gsync can use: ${configured.join(',')}`, {
      hint: `add one of ${supported.join(',')} to ${keyword}, or leave ${keyword} unset for this host`,
    });
  }
  return usable;
}

/** ProxyCommand, else ProxyJump (ssh -G already kept whichever came first), else direct. */
function routeOf(settings: SshSettings, options: ResolveOptions, place: HopPlace): Route {
  if (settings.proxyCommand !== undefined) return { kind: 'command', command: proxyCommandLine(settings) };
  if (settings.proxyJump === undefined) return { kind: 'direct' };
  // SshSettings keeps ProxyJump as the text ssh -G prints (all it gives), so the hops are read from it whichever resolver answered.
  const hops = settings.proxyJump.split(',').map((text) => hopOf(text, settings.alias));
  return { kind: 'jump', hops: hops.map((hop, index) => hopSpec(hop, options, { chain: place.chain, ownRoute: index === 0 })) };
}

/** ProxyCommand's %h %p %r %n %k and %%; ssh quotes nothing, the command is run by a shell. */
function proxyCommandLine(settings: SshSettings): string {
  const command = settings.proxyCommand ?? '';
  if (command === '-') {
    throw new GsyncError('usage', `${settings.alias} has ProxyCommand - (the connection on stdin/stdout), which gsync cannot use`, { hint: 'use ProxyJump or a ProxyCommand that runs a program' });
  }
  const tokens = { h: settings.hostname, p: String(settings.port), r: settings.user, n: settings.alias, k: settings.hostKeyAlias ?? settings.alias };
  return expandOrThrow('ProxyCommand', command, () => percentExpand(command, tokens));
}

function hopOf(text: string, alias: string): JumpHop {
  const hop = parseJumpHop(text);
  if (!hop) throw new GsyncError('usage', `ProxyJump for ${alias} has a hop gsync cannot read: ${JSON.stringify(text)}`, { hint: 'write hops as [user@]host[:port] or ssh://[user@]host[:port]' });
  return hop;
}

/** A hop is resolved as `ssh [-l user] [-p port] [-F config] host` would resolve it: the same config, none of the other flags. */
function hopSpec(hop: JumpHop, options: ResolveOptions, place: HopPlace): ConnectSpec {
  const key = hopKey(hop.host, hop.user, hop.port);
  const chain = [...place.chain, key];
  if (place.chain.includes(key)) {
    throw new GsyncError('usage', `ProxyJump loop: ${chain.join(' → ')}`, { hint: 'a jump host reaches itself through ProxyJump; set ProxyJump none in its Host block' });
  }
  if (chain.length > MAX_JUMP_DEPTH) {
    throw new GsyncError('usage', `ProxyJump nests more than ${MAX_JUMP_DEPTH} hosts deep: ${chain.join(' → ')}`, { hint: 'check ProxyJump for a loop' });
  }
  const hopOptions: ResolveOptions = {
    ...pick(options, ['configFile', 'env', 'sshClient', 'home', 'systemConfigFile']),
    ...(hop.user === undefined ? {} : { user: hop.user }),
    ...(hop.port === undefined ? {} : { port: hop.port }),
  };
  return specFor({ host: hop.host, user: hop.user }, hopOptions, { chain, ownRoute: place.ownRoute });
}

/** Resolving the same name with the same user and port always gives the same answer: seeing it again is a loop. */
function hopKey(host: string, user: string | undefined, port: number | undefined): string {
  return `${user === undefined ? '' : `${user}@`}${host}${port === undefined ? '' : `:${port}`}`;
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((key) => from[key] !== undefined).map((key) => [key, from[key]])) as Partial<Pick<T, K>>;
}
