import { homedir, userInfo } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteTarget } from '../core/target.js';
import { GsyncError } from '../errors/GsyncError.js';
import { hostPatternsMatch, readConfigLines, type ConfigLine } from './configFile.js';
import type { ConnectSpec } from './spec.js';

export interface ResolveOptions {
  /** `-F`: another config file instead of ~/.ssh/config. */
  readonly configFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Resolves a target to connection settings the way OpenSSH does for the settings gsync uses:
 * the first value found wins, walking Host blocks in file order; IdentityFile accumulates.
 * `Match` blocks are not evaluated yet and are treated as not matching.
 */
export function resolveConnectSpec(target: RemoteTarget, options: ResolveOptions = {}): ConnectSpec {
  const env = options.env ?? process.env;
  const home = env.HOME ?? homedir();
  const sshDir = join(home, '.ssh');
  const file = options.configFile ?? join(sshDir, 'config');
  if (options.configFile && !existsSync(options.configFile)) {
    throw new GsyncError('usage', `ssh config file ${options.configFile} does not exist`, { hint: 'check the path given to -F' });
  }
  const found = collect(readConfigLines(file, sshDir), target.host);
  const first = (key: string): string | undefined => found.values.get(key)?.[0];

  // ssh expands %h in HostName to the name typed, and matches host keys on the lowercased result.
  const host = (first('hostname')?.replace(/%([%h])/g, (_, t: string) => (t === '%' ? '%' : target.host)) ?? target.host).toLowerCase();
  const port = parsePort(first('port') ?? '22', found.lines.get('port'));
  const user = target.user ?? first('user') ?? userInfo().username;
  const tokens = { h: host, p: String(port), r: user, u: userInfo().username, n: target.host, d: home };
  const expand = (value: string): string => expandPath(value, tokens, home);

  const configuredKeys = found.values.get('identityfile') ?? [];
  const identityFiles = configuredKeys.length > 0 ? configuredKeys.map(expand) : defaultIdentities(sshDir);
  const knownHostsValue = found.values.get('userknownhostsfile') ?? [join(sshDir, 'known_hosts'), join(sshDir, 'known_hosts2')];
  const knownHostsFiles = knownHostsValue.length === 1 && knownHostsValue[0] === 'none' ? [] : knownHostsValue.map(expand);
  const proxyCommand = found.values.get('proxycommand')?.join(' ');
  const proxyJump = first('proxyjump');

  return {
    alias: target.host,
    host,
    port,
    user,
    identityFiles,
    identitiesOnly: yes(first('identitiesonly')),
    agentSocket: agentSocketOf(first('identityagent'), env, expand),
    knownHostsFiles,
    strictHostKeyChecking: strictness(first('stricthostkeychecking'), first('batchmode')),
    hostKeyAlias: first('hostkeyalias'),
    connectTimeoutMs: seconds(first('connecttimeout'), 30) * 1000,
    keepaliveIntervalMs: seconds(first('serveraliveinterval'), 15) * 1000,
    keepaliveCountMax: seconds(first('serveralivecountmax'), 3),
    proxyJump: proxyJump === 'none' ? undefined : proxyJump,
    proxyCommand: proxyCommand === 'none' ? undefined : proxyCommand,
    aliasKnown: found.aliasKnown,
  };
}

interface Collected {
  /** Per key, the arguments of the first line that set it; IdentityFile and CertificateFile accumulate one per line. */
  values: Map<string, string[]>;
  lines: Map<string, ConfigLine>;
  aliasKnown: boolean;
}

const multiValued = new Set(['identityfile', 'certificatefile']);

/**
 * Walks the lines as OpenSSH's readconf does: a Host or Match line decides whether the lines
 * after it apply; an Include inside a block that does not apply can never match; after an
 * Include, the including block's state is restored.
 */
function collect(lines: readonly ConfigLine[], alias: string): Collected {
  const values = new Map<string, string[]>();
  const where = new Map<string, ConfigLine>();
  let active = true;
  let neverMatch = false;
  let aliasKnown = false;
  const includes: Array<{ id: number; active: boolean; neverMatch: boolean }> = [];
  for (const line of lines) {
    // Leave the Includes this line is no longer inside, restoring the state each began with.
    for (let top = includes.at(-1); top && line.origin[includes.length - 1] !== top.id; top = includes.at(-1)) {
      includes.pop();
      ({ active, neverMatch } = top);
    }
    while (includes.length < line.origin.length) {
      includes.push({ id: line.origin[includes.length] ?? 0, active, neverMatch });
      neverMatch ||= !active;
    }
    if (line.key === 'host') {
      active = !neverMatch && hostPatternsMatch(line.args, alias);
      if (active && line.args.some((p) => p.toLowerCase() === alias.toLowerCase())) aliasKnown = true;
      continue;
    }
    if (line.key === 'match') {
      active = !neverMatch && line.args.length === 1 && line.args[0]?.toLowerCase() === 'all';
      continue;
    }
    if (!active || line.args.length === 0) continue;
    const existing = values.get(line.key);
    if (multiValued.has(line.key)) {
      values.set(line.key, [...(existing ?? []), line.args[0] ?? '']);
    } else if (!existing) {
      values.set(line.key, [...line.args]);
      where.set(line.key, line);
    }
  }
  return { values, lines: where, aliasKnown };
}

/** IdentityAgent: `none`, the literal `SSH_AUTH_SOCK` or `$VAR` (read from the environment), or a path. */
function agentSocketOf(value: string | undefined, env: NodeJS.ProcessEnv, expand: (v: string) => string): string | undefined {
  if (value === 'none') return undefined;
  if (value === undefined || value === 'SSH_AUTH_SOCK') return env.SSH_AUTH_SOCK || undefined;
  if (value.startsWith('$')) return env[value.slice(1)] || undefined;
  return expand(value);
}

function expandPath(value: string, tokens: Record<string, string>, home: string): string {
  const withTokens = value.replace(/%([%a-zA-Z])/g, (whole, t: string) => (t === '%' ? '%' : tokens[t] ?? whole));
  if (withTokens === '~') return home;
  return withTokens.startsWith('~/') ? join(home, withTokens.slice(2)) : withTokens;
}

function defaultIdentities(sshDir: string): string[] {
  return ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk'].map((name) => join(sshDir, name));
}

function parsePort(value: string, line: ConfigLine | undefined): number {
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    const where = line ? ` (${line.file}:${line.line})` : '';
    throw new GsyncError('usage', `bad port ${JSON.stringify(value)}${where}`, { hint: 'Port takes a number from 1 to 65535' });
  }
  return port;
}

function strictness(value: string | undefined, batchMode: string | undefined): ConnectSpec['strictHostKeyChecking'] {
  switch (value?.toLowerCase()) {
    case 'yes':
    case 'true':
      return 'yes';
    case 'accept-new':
      return 'accept-new';
    case 'no':
    case 'off':
    case 'false':
      return 'no';
    default:
      // OpenSSH's default is 'ask'; gsync never prompts, and BatchMode turns asking into refusal.
      return yes(batchMode) ? 'yes' : 'ask';
  }
}

function yes(value: string | undefined): boolean {
  return value?.toLowerCase() === 'yes';
}

function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n >= 0 ? n : fallback;
}
