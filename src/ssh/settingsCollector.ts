import { CIPHERS, HOST_KEY_ALGORITHMS, invalidAlgorithmSpec, KEX_ALGORITHMS, type AlgorithmTable } from './algorithmList.js';
import { ConfigSyntaxError, rawValue } from './configSyntax.js';
import { dollarExpand, TokenError } from './configTokens.js';
import { parseProxyJump, type ProxyJump } from './proxyJump.js';
import { parsePort } from './servicePort.js';
import type { SshSettings } from './settings.js';

/** An IdentityFile or CertificateFile and who named it: ssh drops a repeat only from the same kind of source. */
export interface NamedFile {
  readonly path: string;
  /** 0: the system config; 1: `-i`; 2: the user's config or `-o`. */
  readonly source: 0 | 1 | 2;
}

/**
 * The options found so far in a walk over the config, each unset until a line that applies
 * sets it: ssh's `Options` before fill_default_options. First value wins, except for the lists.
 */
export interface Collected {
  hostname?: string;
  port?: number;
  user?: string;
  identityFiles: NamedFile[];
  certificateFiles: NamedFile[];
  identitiesOnly?: boolean;
  identityAgent?: string;
  proxyCommand?: string;
  proxyJump?: ProxyJump;
  connectTimeout?: number;
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  strictHostKeyChecking?: SshSettings['strictHostKeyChecking'];
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  hostKeyAlias?: string;
  hashKnownHosts?: boolean;
  batchMode?: boolean;
  pubkeyAuthentication?: boolean;
  passwordAuthentication?: boolean;
  kbdInteractiveAuthentication?: boolean;
  ciphers?: string;
  kexAlgorithms?: string;
  hostKeyAlgorithms?: string;
  canonicalizeHostname?: boolean;
}

/** The part of a config line an option reads. */
export interface OptionLine {
  readonly key: string;
  readonly args: readonly string[];
  readonly rest: string;
  /** Which list source an IdentityFile/CertificateFile line counts as. */
  readonly fileSource: 0 | 2;
}

type Apply = (collected: Collected, line: OptionLine, active: boolean) => void;

/**
 * Applies one line as readconf.c does: the value is checked whether or not the line applies
 * (ssh refuses a bad value anywhere in the file), and stored only when it applies and nothing
 * set it before. Keywords gsync does not use are ignored, unknown ones too (a config may be
 * written for a newer ssh). Throws ConfigSyntaxError with ssh's complaint.
 */
export function applyOption(collected: Collected, line: OptionLine, active: boolean, env: NodeJS.ProcessEnv): void {
  const key = ALIASES[line.key] ?? line.key;
  if (key === 'identityagent') return applyIdentityAgent(collected, line, active, env);
  OPTIONS[key]?.(collected, line, active);
}

const ALIASES: Readonly<Record<string, string>> = {
  identityfile2: 'identityfile',
  challengeresponseauthentication: 'kbdinteractiveauthentication',
  skeyauthentication: 'kbdinteractiveauthentication',
  tisauthentication: 'kbdinteractiveauthentication',
  dsaauthentication: 'pubkeyauthentication',
};

const FLAG: Readonly<Record<string, boolean>> = { true: true, false: false, yes: true, no: false };
const STRICT: Readonly<Record<string, SshSettings['strictHostKeyChecking']>> = { true: 'yes', yes: 'yes', false: 'no', no: 'no', off: 'no', ask: 'ask', 'accept-new': 'accept-new' };
const PUBKEY: Readonly<Record<string, boolean>> = { ...FLAG, unbound: true, 'host-bound': true };
const CANONICALIZE: Readonly<Record<string, boolean>> = { ...FLAG, always: true };

const OPTIONS: Readonly<Record<string, Apply>> = {
  hostname: text((c, v) => (c.hostname ??= v)),
  user: text((c, v) => (c.user ??= v)),
  hostkeyalias: text((c, v) => (c.hostKeyAlias ??= v)),
  port: (c, line, active) => {
    const value = single(line);
    const port = parsePort(value);
    if (port === undefined) throw new ConfigSyntaxError(`Bad port '${value}'.`);
    if (active) c.port ??= port;
  },
  identityfile: (c, line, active) => addFile(c.identityFiles, single(line), line.fileSource, active),
  certificatefile: (c, line, active) => addFile(c.certificateFiles, single(line), line.fileSource, active),
  identitiesonly: choice(FLAG, (c, v) => (c.identitiesOnly ??= v)),
  hashknownhosts: choice(FLAG, (c, v) => (c.hashKnownHosts ??= v)),
  batchmode: choice(FLAG, (c, v) => (c.batchMode ??= v)),
  passwordauthentication: choice(FLAG, (c, v) => (c.passwordAuthentication ??= v)),
  kbdinteractiveauthentication: choice(FLAG, (c, v) => (c.kbdInteractiveAuthentication ??= v)),
  pubkeyauthentication: choice(PUBKEY, (c, v) => (c.pubkeyAuthentication ??= v)),
  stricthostkeychecking: choice(STRICT, (c, v) => (c.strictHostKeyChecking ??= v)),
  canonicalizehostname: choice(CANONICALIZE, (c, v) => (c.canonicalizeHostname ??= v)),
  connecttimeout: duration('connectTimeout'),
  serveraliveinterval: duration('serverAliveInterval'),
  serveralivecountmax: (c, line, active) => {
    const value = single(line);
    if (!/^[ \t]*\+?\d+$/.test(value) || Number(value) > 2 ** 31 - 1) throw new ConfigSyntaxError(`integer value ${value} invalid.`);
    if (active) c.serverAliveCountMax ??= Number(value);
  },
  userknownhostsfile: fileList('userKnownHostsFiles'),
  globalknownhostsfile: fileList('globalKnownHostsFiles'),
  ciphers: algorithms('ciphers', CIPHERS),
  kexalgorithms: algorithms('kexAlgorithms', KEX_ALGORITHMS),
  hostkeyalgorithms: algorithms('hostKeyAlgorithms', HOST_KEY_ALGORITHMS),
  // Between ProxyCommand and ProxyJump the first wins (OpenSSH 10.3, backported to this 9.2):
  // a ProxyJump sets ProxyCommand to none, and a ProxyCommand keeps a later ProxyJump out.
  // `ProxyJump none` only stops later ProxyJump lines.
  proxycommand: (c, line, active) => {
    if (active) c.proxyCommand ??= rawValue(line.rest);
  },
  proxyjump: (c, line, active) => {
    const jump = parseProxyJump(rawValue(line.rest));
    if (!jump) throw new ConfigSyntaxError(`Invalid ProxyJump "${rawValue(line.rest)}"`);
    if (!active || c.proxyJump !== undefined) return;
    if (jump === 'none') c.proxyJump = jump;
    else if (c.proxyCommand === undefined) {
      c.proxyJump = jump;
      c.proxyCommand = 'none';
    }
  },
};

/** The one argument of a single-valued keyword: ssh's "Missing argument" and "extra arguments". */
function single(line: OptionLine): string {
  const [value, ...extra] = line.args;
  if (value === undefined || value === '') throw new ConfigSyntaxError('Missing argument.');
  if (extra.length > 0) throw new ConfigSyntaxError(`keyword ${line.key} extra arguments at end of line`);
  return value;
}

/** A single-word value; `keep` stores it unless already set. */
function text(keep: (c: Collected, value: string) => void): Apply {
  return (c, line, active) => {
    const value = single(line);
    if (active) keep(c, value);
  };
}

/** One of a fixed set of words (case-insensitive), as readconf.c's multistate tables. */
function choice<T>(values: Readonly<Record<string, T>>, keep: (c: Collected, value: T) => void): Apply {
  return (c, line, active) => {
    const word = single(line);
    const value = values[word.toLowerCase()];
    if (value === undefined) throw new ConfigSyntaxError(`unsupported option "${word}".`);
    if (active) keep(c, value);
  };
}

function duration(field: 'connectTimeout' | 'serverAliveInterval'): Apply {
  return (c, line, active) => {
    const word = single(line);
    const seconds = word === 'none' ? null : convtime(word);
    if (seconds === undefined) throw new ConfigSyntaxError('invalid time value.');
    // `none` is ssh's "unset" value, so a later line can still set it.
    if (active && seconds !== null) c[field] ??= seconds;
  };
}

/** misc.c's convtime: `90`, `5m`, `1h30m`; units s m h d w. */
function convtime(text: string): number | undefined {
  const units: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  const parts = text.match(/[ \t]*\+?\d+[sSmMhHdDwW]?/g);
  if (!parts || parts.join('') !== text) return undefined;
  for (const part of parts) {
    const [, digits = '', unit = ''] = /(\d+)(\D?)$/.exec(part) ?? [];
    total += Number(digits) * (units[unit.toLowerCase()] ?? NaN);
  }
  return Number.isFinite(total) && total <= 2 ** 31 - 1 ? total : undefined;
}

function fileList(field: 'userKnownHostsFiles' | 'globalKnownHostsFiles'): Apply {
  return (c, line, active) => {
    if (line.args.some((arg) => arg === '')) throw new ConfigSyntaxError(`keyword ${line.key} empty argument`);
    if (line.args.length > 1 && line.args.some((arg) => arg.toLowerCase() === 'none')) {
      throw new ConfigSyntaxError(`keyword ${line.key} "none" argument must appear alone.`);
    }
    if (line.args.length > 32) throw new ConfigSyntaxError(`too many ${line.key} entries.`);
    if (active) c[field] ??= [...line.args];
  };
}

function algorithms(field: 'ciphers' | 'kexAlgorithms' | 'hostKeyAlgorithms', table: AlgorithmTable): Apply {
  return (c, line, active) => {
    const spec = single(line);
    const invalid = invalidAlgorithmSpec(table, spec);
    if (invalid) throw new ConfigSyntaxError(invalid);
    if (active) c[field] ??= spec;
  };
}

/** add_identity_file / add_certificate_file: at most 100; a repeat from the same kind of source is dropped. */
export function addFile(files: NamedFile[], path: string, source: NamedFile['source'], active: boolean): void {
  if (!active || files.some((f) => f.path === path && f.source === source)) return;
  if (files.length >= 100) throw new ConfigSyntaxError('Too many identity files specified (max 100).');
  files.push({ path, source });
}

/** IdentityAgent: `${VAR}` must be set and `$VAR` a valid name, even where the line does not apply. */
function applyIdentityAgent(c: Collected, line: OptionLine, active: boolean, env: NodeJS.ProcessEnv): void {
  const value = single(line);
  try {
    dollarExpand(value, env);
  } catch (error) {
    if (error instanceof TokenError) throw new ConfigSyntaxError(`Invalid environment expansion ${value}.`);
    throw error;
  }
  if (value.startsWith('$') && !value.startsWith('${') && !/^\$[A-Za-z0-9_]+$/.test(value)) {
    throw new ConfigSyntaxError(`Invalid environment name ${value}.`);
  }
  if (active) c.identityAgent ??= value;
}
