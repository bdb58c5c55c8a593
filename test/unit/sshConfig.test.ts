import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTarget, type RemoteTarget } from '../../src/core/target.js';
import { GsyncError } from '../../src/errors/GsyncError.js';
import { resolveConnectSpec, type ResolveOptions } from '../../src/ssh/config.js';
import { socketError } from '../../src/ssh/connectErrors.js';
import { readConfigLines } from '../../src/ssh/configFile.js';
import type { ConnectSpec, Route } from '../../src/ssh/spec.js';
import { ssh2Algorithms } from '../../src/ssh/ssh2Algorithms.js';
import { globMatch, hostPatternsMatch } from '../../src/ssh/sshPatterns.js';

const LOCAL_USER = userInfo().username;

/** `$HOME$` in config text and expectations stands for the temp HOME; `$USER$` for the local user. */
const HOME_TOKEN = '$HOME$';
const USER_TOKEN = '$USER$';

let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'gsync-ssh-config-'));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

function substitute<T>(value: T): T {
  if (typeof value === 'string') return value.split(HOME_TOKEN).join(home).split(USER_TOKEN).join(LOCAL_USER) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => substitute(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)])) as T;
  }
  return value;
}

/** Writes files (paths relative to HOME) into the temp HOME. */
function writeHome(files: Record<string, string>): void {
  for (const [relative, text] of Object.entries(files)) {
    const path = join(home, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, substitute(text));
  }
}

function targetOf(target: string | RemoteTarget): RemoteTarget {
  return typeof target === 'string' ? { host: target, path: '' } : target;
}

/**
 * Through the builtin resolver (ssh would take ~ from the passwd entry, not this HOME), with no
 * system-wide config, so the rows see only their own files. test/unit/sshSettings.test.ts holds
 * the builtin to what ssh -G says.
 */
function resolve(target: string | RemoteTarget, options: { configFile?: string; env?: Record<string, string> } = {}): ConnectSpec {
  const base: ResolveOptions = { env: { HOME: home, ...options.env }, sshClient: null, systemConfigFile: null };
  return resolveConnectSpec(targetOf(target), options.configFile === undefined ? base : { ...base, configFile: substitute(options.configFile) });
}

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((n) => `${HOME_TOKEN}/.ssh/${n}`);

interface Row {
  readonly description: string;
  /** Files relative to HOME; `.ssh/config` is the one read unless configFile is given. */
  readonly files: Record<string, string>;
  readonly target: string | RemoteTarget;
  readonly configFile?: string;
  readonly env?: Record<string, string>;
  readonly want: Partial<ConnectSpec>;
}

function check(row: Row): void {
  writeHome(row.files);
  const options: { configFile?: string; env?: Record<string, string> } = {};
  if (row.configFile !== undefined) options.configFile = row.configFile;
  if (row.env !== undefined) options.env = row.env;
  const spec = resolve(row.target, options);
  expect(spec).toMatchObject(substitute(row.want));
}

describe('resolveConnectSpec: Host blocks, first value wins', () => {
  const rows: Row[] = [
    {
      description: 'the first value across Host blocks wins',
      files: { '.ssh/config': 'Host gpu\n  Port 2201\nHost gpu\n  Port 2202\n  User first\nHost *\n  User second\n' },
      target: 'gpu',
      want: { port: 2201, user: 'first', host: 'gpu', alias: 'gpu' },
    },
    {
      description: 'Host * after the specific block fills only what is still unset',
      files: { '.ssh/config': 'Host gpu\n  HostName gpu.example.com\nHost *\n  HostName ignored.example.com\n  User defaultuser\n  Port 2222\n' },
      target: 'gpu',
      want: { host: 'gpu.example.com', user: 'defaultuser', port: 2222 },
    },
    {
      description: 'Host * before the specific block wins over it',
      files: { '.ssh/config': 'Host *\n  Port 1000\nHost gpu\n  Port 2000\n  User gpuuser\n' },
      target: 'gpu',
      want: { port: 1000, user: 'gpuuser' },
    },
    {
      description: 'settings before any Host line apply to every host',
      files: { '.ssh/config': 'Port 3000\nHost gpu\n  Port 2000\n' },
      target: 'gpu',
      want: { port: 3000 },
    },
    {
      description: 'a block for another host does not apply',
      files: { '.ssh/config': 'Host cpu\n  Port 2000\n  User cpuuser\n' },
      target: 'gpu',
      want: { port: 22, user: LOCAL_USER, host: 'gpu' },
    },
    {
      description: 'a wildcard block applies',
      files: { '.ssh/config': 'Host gpu-*\n  User wild\n  Port 2100\n' },
      target: 'gpu-7',
      want: { port: 2100, user: 'wild' },
    },
    {
      description: 'a negated pattern excludes the alias from its block',
      files: { '.ssh/config': 'Host * !gpu\n  Port 1111\nHost *\n  Port 2222\n' },
      target: 'gpu',
      want: { port: 2222 },
    },
    {
      description: 'a negated pattern leaves other aliases matched',
      files: { '.ssh/config': 'Host * !gpu\n  Port 1111\nHost *\n  Port 2222\n' },
      target: 'cpu',
      want: { port: 1111 },
    },
    {
      description: 'a Host line with only a negated pattern matches nothing',
      files: { '.ssh/config': 'Host !gpu\n  Port 1111\n' },
      target: 'cpu',
      want: { port: 22, aliasKnown: false },
    },
    {
      description: 'Match all applies; lines after it apply again',
      files: { '.ssh/config': 'Host cpu\n  Port 1\nMatch all\n  Port 2600\n' },
      target: 'gpu',
      want: { port: 2600 },
    },
    {
      description: 'Key=Value syntax, with and without spaces around =',
      files: { '.ssh/config': 'Host=gpu\nHostName=gpu.lan\nPort = 2200\nUser =bob\nIdentityFile= /keys/gpu\n' },
      target: 'gpu',
      want: { host: 'gpu.lan', port: 2200, user: 'bob', identityFiles: ['/keys/gpu'] },
    },
    {
      description: 'quoted values keep their spaces',
      files: { '.ssh/config': 'Host gpu\n  IdentityFile "/keys/my key"\n  User "alice"\n' },
      target: 'gpu',
      want: { user: 'alice', identityFiles: ['/keys/my key'] },
    },
    {
      description: 'a quoted UserKnownHostsFile with a space is one file',
      files: { '.ssh/config': 'Host gpu\n  UserKnownHostsFile "/kh/known hosts" /kh2\n' },
      target: 'gpu',
      want: { knownHostsFiles: ['/kh/known hosts', '/kh2'] },
    },
    {
      description: 'comments: whole lines, indented, and trailing after a value',
      files: { '.ssh/config': '# my hosts\nHost gpu # the GPU box\n    # Port 1\n  Port 2200 # not 22\n  User bob#notacomment\n\n\n' },
      target: 'gpu',
      want: { port: 2200, user: 'bob#notacomment' },
    },
    {
      description: 'keywords are case-insensitive',
      files: { '.ssh/config': 'HOST gpu\n  HOSTNAME gpu.lan\n  port 2200\n  uSeR bob\n  IDENTITYFILE /keys/a\n  identityfile /keys/b\n' },
      target: 'gpu',
      want: { host: 'gpu.lan', port: 2200, user: 'bob', identityFiles: ['/keys/a', '/keys/b'] },
    },
    {
      description: 'CRLF line endings',
      files: { '.ssh/config': 'Host gpu\r\n  Port 2200\r\n  User bob\r\n' },
      target: 'gpu',
      want: { port: 2200, user: 'bob' },
    },
    {
      description: 'IdentityFile accumulates across blocks, in order',
      files: { '.ssh/config': 'Host gpu\n  IdentityFile /keys/a\n  IdentityFile /keys/b\nHost g*\n  IdentityFile /keys/c\nHost *\n  IdentityFile /keys/d\n' },
      target: 'gpu',
      want: { identityFiles: ['/keys/a', '/keys/b', '/keys/c', '/keys/d'] },
    },
    {
      description: 'no config file at all: OpenSSH defaults',
      files: {},
      target: 'gpu',
      want: {
        alias: 'gpu',
        host: 'gpu',
        port: 22,
        user: LOCAL_USER,
        identityFiles: DEFAULT_IDENTITIES,
        identitiesOnly: false,
        knownHostsFiles: [`${HOME_TOKEN}/.ssh/known_hosts`, `${HOME_TOKEN}/.ssh/known_hosts2`],
        strictHostKeyChecking: 'ask',
        hostKeyAlias: undefined,
        agentSocket: undefined,
        route: { kind: 'direct' },
        aliasKnown: false,
      },
    },
    {
      description: 'no IdentityFile given: the default identities under HOME/.ssh',
      files: { '.ssh/config': 'Host gpu\n  Port 2200\n' },
      target: 'gpu',
      want: { identityFiles: DEFAULT_IDENTITIES },
    },
    {
      description: 'the user from the target overrides User',
      files: { '.ssh/config': 'Host gpu\n  User cfg\n' },
      target: { host: 'gpu', user: 'cli', path: '' },
      want: { user: 'cli' },
    },
    {
      description: 'User from the config when the target names none',
      files: { '.ssh/config': 'Host gpu\n  User cfg\n' },
      target: parseTarget('gpu:runs'),
      want: { user: 'cfg' },
    },
    {
      description: '-F replaces ~/.ssh/config',
      files: { '.ssh/config': 'Host gpu\n  Port 1111\n', 'elsewhere/cfg': 'Host gpu\n  Port 2222\n' },
      configFile: `${HOME_TOKEN}/elsewhere/cfg`,
      target: 'gpu',
      want: { port: 2222 },
    },
    {
      description: 'HostKeyAlias, IdentitiesOnly, timeouts',
      files: { '.ssh/config': 'Host gpu\n  HostKeyAlias gpu-key\n  IdentitiesOnly yes\n  ConnectTimeout 5\n  ServerAliveInterval 7\n  ServerAliveCountMax 2\n' },
      target: 'gpu',
      want: { hostKeyAlias: 'gpu-key', identitiesOnly: true, connectTimeoutMs: 5000, keepaliveIntervalMs: 7000, keepaliveCountMax: 2 },
    },
    // OpenSSH expands %h in HostName to the alias typed ("HostName %h.example.com").
    {
      description: 'HostName with %h is the alias expanded',
      files: { '.ssh/config': 'Host gpu\n  HostName %h.example.com\n' },
      target: 'gpu',
      want: { host: 'gpu.example.com' },
    },
  ];
  it.each(rows)('$description', (row) => check(row));
});

describe('resolveConnectSpec: ~ and %-tokens in IdentityFile and UserKnownHostsFile', () => {
  const rows: Row[] = [
    {
      // ssh's tilde_expand makes a bare ~ the home directory with a slash.
      description: 'IdentityFile with ~, %h %p %r %n %u %d and %%',
      files: {
        '.ssh/config':
          'Host gpu\n  HostName gpu.lan\n  Port 2200\n  User bob\n  IdentityFile ~/.ssh/%h-%p-%r\n  IdentityFile /keys/%n/%u/100%%\n  IdentityFile %d/keys/x\n  IdentityFile ~\n',
      },
      target: 'gpu',
      want: {
        identityFiles: [`${HOME_TOKEN}/.ssh/gpu.lan-2200-bob`, `/keys/gpu/${USER_TOKEN}/100%`, `${HOME_TOKEN}/keys/x`, `${HOME_TOKEN}/`],
      },
    },
    {
      description: '%r is the target user when it overrides User',
      files: { '.ssh/config': 'Host gpu\n  User cfg\n  IdentityFile ~/.ssh/id_%r\n' },
      target: { host: 'gpu', user: 'cli', path: '' },
      want: { identityFiles: [`${HOME_TOKEN}/.ssh/id_cli`] },
    },
    {
      description: '%h without HostName is the alias; %p is the default port',
      files: { '.ssh/config': 'Host gpu\n  IdentityFile /keys/%h_%p\n' },
      target: 'gpu',
      want: { identityFiles: ['/keys/gpu_22'] },
    },
    {
      description: '%% is a literal percent and does not start a token',
      files: { '.ssh/config': 'Host gpu\n  IdentityFile /keys/%%h\n' },
      target: 'gpu',
      want: { identityFiles: ['/keys/%h'] },
    },
    {
      description: 'UserKnownHostsFile: several files with ~ and tokens',
      files: { '.ssh/config': 'Host gpu\n  HostName gpu.lan\n  UserKnownHostsFile ~/.ssh/kh_%n %d/kh_%h_%p /etc/kh_%r\n' },
      target: { host: 'gpu', user: 'cli', path: '' },
      want: { knownHostsFiles: [`${HOME_TOKEN}/.ssh/kh_gpu`, `${HOME_TOKEN}/kh_gpu.lan_22`, '/etc/kh_cli'] },
    },
    {
      description: 'UserKnownHostsFile unset: known_hosts and known_hosts2 under HOME/.ssh',
      files: { '.ssh/config': 'Host gpu\n  Port 2200\n' },
      target: 'gpu',
      want: { knownHostsFiles: [`${HOME_TOKEN}/.ssh/known_hosts`, `${HOME_TOKEN}/.ssh/known_hosts2`] },
    },
    // ssh_config(5): "A value of none causes ssh(1) to ignore any user-specific known hosts files."
    {
      description: 'UserKnownHostsFile none means no user known_hosts file, not a file named none',
      files: { '.ssh/config': 'Host gpu\n  UserKnownHostsFile none\n' },
      target: 'gpu',
      want: { knownHostsFiles: [] },
    },
  ];
  it.each(rows)('$description', (row) => check(row));
});

describe('resolveConnectSpec: what ssh expands only when it uses it, and gsync defaults', () => {
  const rows: Row[] = [
    {
      description: '${VAR} in IdentityFile and CertificateFile, from the environment',
      files: { '.ssh/config': 'Host gpu\n  IdentityFile ${KEYS}/id_%h\n  CertificateFile ~/.ssh/%r-cert.pub\n  User bob\n' },
      target: 'gpu',
      env: { KEYS: '/keys' },
      want: { identityFiles: ['/keys/id_gpu'], certificateFiles: [`${HOME_TOKEN}/.ssh/bob-cert.pub`] },
    },
    { description: 'IdentityFile none is no file', files: { '.ssh/config': 'Host gpu\n  IdentityFile none\n  IdentityFile /k/a\n' }, target: 'gpu', want: { identityFiles: ['/k/a'] } },
    {
      description: 'GlobalKnownHostsFile: ~ expanded, nothing else',
      files: { '.ssh/config': 'Host gpu\n  GlobalKnownHostsFile ~/g /g/%h\n' },
      target: 'gpu',
      want: { globalKnownHostsFiles: [`${HOME_TOKEN}/g`, '/g/%h'] },
    },
    {
      description: 'known_hosts files of /dev/null are none',
      files: { '.ssh/config': 'Host gpu\n  UserKnownHostsFile /dev/null\n  GlobalKnownHostsFile /dev/null\n' },
      target: 'gpu',
      want: { knownHostsFiles: [], globalKnownHostsFiles: [] },
    },
    {
      description: 'defaults: a 30 s connect timeout, a 15 s keepalive, the system known_hosts',
      files: {},
      target: 'gpu',
      want: { connectTimeoutMs: 30_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 3, globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'] },
    },
    {
      description: 'ConnectTimeout 0 (no timeout to ssh) and ServerAliveInterval 0 keep gsync’s bounds',
      files: { '.ssh/config': 'Host gpu\n  ConnectTimeout 0\n  ServerAliveInterval 0\n  ServerAliveCountMax 1\n' },
      target: 'gpu',
      want: { connectTimeoutMs: 30_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 1 },
    },
    { description: 'ConnectTimeout in minutes', files: { '.ssh/config': 'Host gpu\n  ConnectTimeout 1m\n' }, target: 'gpu', want: { connectTimeoutMs: 60_000 } },
    {
      description: 'auth switches and HashKnownHosts pass through',
      files: { '.ssh/config': 'Host gpu\n  PasswordAuthentication no\n  KbdInteractiveAuthentication no\n  PubkeyAuthentication no\n  HashKnownHosts yes\n  BatchMode yes\n' },
      target: 'gpu',
      want: { passwordAuthentication: false, kbdInteractiveAuthentication: false, pubkeyAuthentication: false, hashKnownHosts: true, batchMode: true },
    },
    { description: 'no algorithm configured: gsync keeps its own', files: {}, target: 'gpu', want: { ciphers: undefined, kexAlgorithms: undefined, hostKeyAlgorithms: undefined } },
    {
      description: 'algorithm lists narrowed to what ssh2 can do, in the configured order',
      files: {
        '.ssh/config':
          'Host gpu\n  Ciphers aes256-gcm@openssh.com,aes128-ctr\n  KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256\n  HostKeyAlgorithms ssh-ed25519-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512\n',
      },
      target: 'gpu',
      want: { ciphers: ['aes256-gcm@openssh.com', 'aes128-ctr'], kexAlgorithms: ['curve25519-sha256'], hostKeyAlgorithms: ['ssh-ed25519', 'rsa-sha2-512'] },
    },
  ];
  it.each(rows)('$description', (row) => check(row));

  it('-F, -i, -p, -l and -o are taken from the options; user@host wins over -l', () => {
    writeHome({ '.ssh/other': 'Host gpu\n  User cfg\n  Port 1\n', 'k/id': 'x\n' });
    const options: ResolveOptions = {
      env: { HOME: home },
      sshClient: null,
      systemConfigFile: null,
      configFile: join(home, '.ssh/other'),
      identityFiles: [join(home, 'k/id')],
      port: 2222,
      user: 'dash-l',
      options: ['HostName=opt.lan', 'IdentitiesOnly yes'],
    };
    expect(resolveConnectSpec({ host: 'gpu' }, options)).toMatchObject({ host: 'opt.lan', port: 2222, user: 'dash-l', identityFiles: [join(home, 'k/id')], identitiesOnly: true });
    expect(resolveConnectSpec({ host: 'gpu', user: 'at' }, options).user).toBe('at');
  });

  it('an algorithm list ssh2 cannot use at all is a usage error', () => {
    writeHome({ '.ssh/config': 'Host gpu\n  KexAlgorithms sntrup761x25519-sha512@openssh.com\n' });
    expect(() => resolve('gpu')).toThrow(/KexAlgorithms/);
  });

  it("ssh2's host key algorithms come in ssh2's preference order: its defaults first, then the ones it offers only when asked", () => {
    const ssh2 = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as { DEFAULT_SERVER_HOST_KEY: string[]; SUPPORTED_SERVER_HOST_KEY: string[] };
    const { hostKeyAlgorithms } = ssh2Algorithms();
    expect(hostKeyAlgorithms).toStrictEqual(ssh2.SUPPORTED_SERVER_HOST_KEY);
    expect(hostKeyAlgorithms.slice(0, ssh2.DEFAULT_SERVER_HOST_KEY.length)).toStrictEqual(ssh2.DEFAULT_SERVER_HOST_KEY);
  });
});

describe('resolveConnectSpec: Include', () => {
  const rows: Row[] = [
    {
      description: 'a relative Include is under HOME/.ssh',
      files: {
        '.ssh/config': 'Include conf.d/gpu.conf\nHost *\n  User fallback\n',
        '.ssh/conf.d/gpu.conf': 'Host gpu\n  Port 2300\n',
      },
      target: 'gpu',
      want: { port: 2300, user: 'fallback', aliasKnown: true },
    },
    {
      description: 'a glob Include reads the matching files in sorted order',
      files: {
        '.ssh/config': 'Include conf.d/*.conf\n',
        '.ssh/conf.d/b.conf': 'Host gpu\n  Port 2002\n  User from-b\n',
        '.ssh/conf.d/a.conf': 'Host gpu\n  Port 2001\n',
        '.ssh/conf.d/c.txt': 'Host gpu\n  Port 2003\n  User from-c\n  HostName from-c\n',
      },
      target: 'gpu',
      want: { port: 2001, user: 'from-b', host: 'gpu' },
    },
    {
      description: 'an Include with ~/ is under HOME',
      files: { '.ssh/config': 'Include ~/extra/ssh.conf\n', 'extra/ssh.conf': 'Host gpu\n  Port 2400\n' },
      target: 'gpu',
      want: { port: 2400 },
    },
    {
      description: 'an absolute Include',
      files: { '.ssh/config': `Include ${HOME_TOKEN}/abs/ssh.conf\n`, 'abs/ssh.conf': 'Host gpu\n  Port 2401\n' },
      target: 'gpu',
      want: { port: 2401 },
    },
    {
      description: 'a relative Include from a -F file is still under HOME/.ssh',
      files: { 'custom/cfg': 'Include inc.conf\n', '.ssh/inc.conf': 'Host gpu\n  Port 2402\n' },
      configFile: `${HOME_TOKEN}/custom/cfg`,
      target: 'gpu',
      want: { port: 2402 },
    },
    {
      description: 'a missing Include is ignored',
      files: { '.ssh/config': 'Include nothing-here.conf\nHost gpu\n  Port 2403\n' },
      target: 'gpu',
      want: { port: 2403 },
    },
    {
      description: 'an Include inside a non-matching Host block applies nothing',
      files: { '.ssh/config': 'Host other\n  Include extra.conf\nHost gpu\n  Port 2500\n', '.ssh/extra.conf': 'User shouldnot\n' },
      target: 'gpu',
      want: { port: 2500, user: LOCAL_USER },
    },
    // OpenSSH reads an included file with its own Host state; after it, the enclosing block goes on.
    {
      description: 'after an Include inside a Host block, the rest of that block still applies',
      files: { '.ssh/config': 'Host gpu\n  Include gpu.conf\n  User outer\n', '.ssh/gpu.conf': 'Port 2404\nHost other\n  Port 1\n' },
      target: 'gpu',
      want: { port: 2404, user: 'outer' },
    },
  ];
  it.each(rows)('$description', (row) => check(row));

  // ssh: "Too many recursive configuration includes", and it stops.
  it('an Include that includes itself is a usage error, not a loop', () => {
    writeHome({ '.ssh/config': 'Include config\nHost gpu\n  Port 2405\n' });
    expect(() => resolve('gpu')).toThrow(/too many recursive configuration includes/);
  });
});

describe('resolveConnectSpec: Port', () => {
  const good: Array<{ description: string; value: string; want: number }> = [
    { description: 'a plain number', value: '2222', want: 2222 },
    { description: 'the lowest port', value: '1', want: 1 },
    { description: 'the highest port', value: '65535', want: 65535 },
    { description: 'a leading zero', value: '022', want: 22 },
    // misc.c's a2port falls back to getservbyname.
    { description: 'a service name from /etc/services', value: 'ssh', want: 22 },
  ];
  it.each(good)('accepts $description', ({ value, want }) => {
    writeHome({ '.ssh/config': `Host gpu\n  Port ${value}\n` });
    expect(resolve('gpu').port).toBe(want);
  });

  // OpenSSH refuses every one of these ("bad configuration option"): gsync must not guess a port.
  const bad: Array<{ description: string; value: string }> = [
    { description: 'a word that names no service', value: 'nosuchservice' },
    { description: 'zero', value: '0' },
    { description: 'above 65535', value: '65536' },
    { description: 'a negative number', value: '-1' },
    { description: 'a fraction', value: '22.5' },
    { description: 'a decimal point', value: '22.0' },
    { description: 'hexadecimal', value: '0x16' },
    { description: 'an exponent', value: '2e3' },
  ];
  it.each(bad)('rejects $description as a usage error naming the file and line', ({ value }) => {
    writeHome({ '.ssh/config': `# ports\nHost gpu\n  Port ${value}\n` });
    let caught: unknown;
    try {
      resolve('gpu');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GsyncError);
    expect((caught as GsyncError).kind).toBe('usage');
    expect((caught as GsyncError).message).toContain(`${join(home, '.ssh/config')}:3`);
  });

  it('a -F file that does not exist is a usage error', () => {
    let caught: unknown;
    try {
      resolve('gpu', { configFile: join(home, 'no-such-config') });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GsyncError);
    expect((caught as GsyncError).kind).toBe('usage');
  });
});

describe('resolveConnectSpec: StrictHostKeyChecking and BatchMode', () => {
  const rows: Array<{ description: string; strict?: string; batchMode?: string; want: ConnectSpec['strictHostKeyChecking'] }> = [
    { description: 'unset is ask', want: 'ask' },
    { description: 'yes', strict: 'yes', want: 'yes' },
    { description: 'YES in capitals', strict: 'YES', want: 'yes' },
    { description: 'accept-new', strict: 'accept-new', want: 'accept-new' },
    { description: 'no', strict: 'no', want: 'no' },
    { description: 'off is no', strict: 'off', want: 'no' },
    { description: 'ask', strict: 'ask', want: 'ask' },
    // readconf.c's multistate_strict_hostkey: true = yes, false = no.
    { description: 'true is yes', strict: 'true', want: 'yes' },
    { description: 'false is no', strict: 'false', want: 'no' },
    { description: 'BatchMode yes with it unset refuses unknown hosts', batchMode: 'yes', want: 'yes' },
    { description: 'BatchMode no with it unset is ask', batchMode: 'no', want: 'ask' },
    { description: 'BatchMode yes does not override accept-new', strict: 'accept-new', batchMode: 'yes', want: 'accept-new' },
    { description: 'BatchMode yes does not override no', strict: 'no', batchMode: 'yes', want: 'no' },
  ];
  it.each(rows)('$description', ({ strict, batchMode, want }) => {
    const lines = ['Host gpu'];
    if (strict !== undefined) lines.push(`  StrictHostKeyChecking ${strict}`);
    if (batchMode !== undefined) lines.push(`  BatchMode ${batchMode}`);
    writeHome({ '.ssh/config': `${lines.join('\n')}\n` });
    expect(resolve('gpu').strictHostKeyChecking).toBe(want);
  });
});

describe('resolveConnectSpec: IdentityAgent', () => {
  const rows: Array<{ description: string; agent?: string; env: Record<string, string>; want: string | undefined }> = [
    { description: 'unset: SSH_AUTH_SOCK from the environment', env: { SSH_AUTH_SOCK: '/run/agent.sock' }, want: '/run/agent.sock' },
    { description: 'unset and no SSH_AUTH_SOCK: no agent', env: {}, want: undefined },
    { description: 'unset and an empty SSH_AUTH_SOCK: no agent', env: { SSH_AUTH_SOCK: '' }, want: undefined },
    { description: 'none: no agent even with SSH_AUTH_SOCK set', agent: 'none', env: { SSH_AUTH_SOCK: '/run/agent.sock' }, want: undefined },
    { description: 'a path overrides SSH_AUTH_SOCK', agent: '/run/other.sock', env: { SSH_AUTH_SOCK: '/run/agent.sock' }, want: '/run/other.sock' },
    { description: 'a path with ~ and %h', agent: '~/.agents/%h.sock', env: {}, want: `${HOME_TOKEN}/.agents/gpu.sock` },
    // ssh_config(5): 'If the string "SSH_AUTH_SOCK" is specified, the location of the socket will be read from the SSH_AUTH_SOCK environment variable.'
    { description: 'the string SSH_AUTH_SOCK reads the environment variable', agent: 'SSH_AUTH_SOCK', env: { SSH_AUTH_SOCK: '/run/agent.sock' }, want: '/run/agent.sock' },
    // ssh_config(5): "if the specified value begins with a '$' character, then it will be treated as an environment variable".
    { description: '$VAR reads that environment variable', agent: '$MY_AGENT', env: { MY_AGENT: '/run/mine.sock' }, want: '/run/mine.sock' },
  ];
  it.each(rows)('$description', ({ agent, env, want }) => {
    writeHome({ '.ssh/config': agent === undefined ? 'Host gpu\n  Port 22\n' : `Host gpu\n  IdentityAgent ${agent}\n` });
    expect(resolve('gpu', { env }).agentSocket).toBe(substitute(want));
  });
});

describe('resolveConnectSpec: aliasKnown', () => {
  const rows: Array<{ description: string; config: string | undefined; alias: string; want: boolean }> = [
    { description: 'no config file', config: undefined, alias: 'gpu', want: false },
    { description: 'a Host line naming the alias', config: 'Host gpu\n  Port 2200\n', alias: 'gpu', want: true },
    { description: 'the alias among several names', config: 'Host cpu gpu tpu\n  Port 2200\n', alias: 'gpu', want: true },
    { description: 'only Host *', config: 'Host *\n  User x\n', alias: 'gpu', want: false },
    { description: 'only a wildcard that matches', config: 'Host gpu*\n  User x\n', alias: 'gpu1', want: false },
    { description: 'a ? wildcard that matches', config: 'Host gpu?\n  User x\n', alias: 'gpu1', want: false },
    { description: 'a Host block for another alias', config: 'Host cpu\n  User x\n', alias: 'gpu', want: false },
    { description: 'a negated name does not name the alias', config: 'Host * !cpu\n  User x\n', alias: 'gpu', want: false },
    { description: 'named after a wildcard block', config: 'Host *\n  User x\nHost gpu\n  Port 1\n', alias: 'gpu', want: true },
    { description: 'named in a block that also negates another host', config: 'Host gpu !cpu\n  Port 1\n', alias: 'gpu', want: true },
    // The block matches only through its wildcard; its literal name is another host's.
    { description: 'a wildcard match in a block whose literal name is another host', config: 'Host build *.lab\n  Port 2600\n', alias: 'gpu.lab', want: false },
    { description: 'the literal name in a block with a wildcard', config: 'Host build *.lab\n  Port 2600\n', alias: 'build', want: true },
  ];
  it.each(rows)('$description → $want', ({ config, alias, want }) => {
    if (config !== undefined) writeHome({ '.ssh/config': config });
    expect(resolve(alias).aliasKnown).toBe(want);
  });
});

/** A route in one line: `direct`, `command: …`, or `jump(user@host:port route, …)`. */
function routeLine(route: Route): string {
  if (route.kind === 'direct') return 'direct';
  if (route.kind === 'command') return `command: ${route.command}`;
  return `jump(${route.hops.map((hop) => `${hop.user}@${hop.host}:${hop.port} ${routeLine(hop.route)}`).join(', ')})`;
}

describe('resolveConnectSpec: route (ProxyJump and ProxyCommand)', () => {
  const rows: Array<{ description: string; config: string; alias: string; want: string }> = [
    { description: 'neither set', config: 'Host gpu\n  Port 22\n', alias: 'gpu', want: 'direct' },
    { description: 'one jump host, resolved through the config', config: 'Host gpu\n  ProxyJump bastion\nHost bastion\n  HostName b.lan\n  User ops\n  Port 2022\n', alias: 'gpu', want: 'jump(ops@b.lan:2022 direct)' },
    { description: 'a hop with nothing configured: the local user, port 22', config: 'Host gpu\n  ProxyJump bastion\n', alias: 'gpu', want: `jump(${USER_TOKEN}@bastion:22 direct)` },
    {
      description: "a hop's user and port in ProxyJump override its own User and Port",
      config: 'Host gpu\n  ProxyJump alice@b1:2222\nHost b1\n  User cfg\n  Port 1000\n  HostName b1.lan\n',
      alias: 'gpu',
      want: 'jump(alice@b1.lan:2222 direct)',
    },
    { description: 'an ssh:// hop', config: 'Host gpu\n  ProxyJump ssh://alice@b1:2201\n', alias: 'gpu', want: 'jump(alice@b1:2201 direct)' },
    {
      description: 'two hops in connection order; a later hop ignores its own ProxyJump (ssh reaches it with -J)',
      config: 'Host gpu\n  ProxyJump b1,b2\nHost b2\n  User bob\n  ProxyJump elsewhere\n',
      alias: 'gpu',
      want: `jump(${USER_TOKEN}@b1:22 direct, bob@b2:22 direct)`,
    },
    {
      description: 'the first hop keeps its own ProxyJump',
      config: 'Host gpu\n  ProxyJump b1,b2\nHost b1\n  ProxyJump b0\n',
      alias: 'gpu',
      want: `jump(${USER_TOKEN}@b1:22 jump(${USER_TOKEN}@b0:22 direct), ${USER_TOKEN}@b2:22 direct)`,
    },
    { description: 'the first hop keeps its own ProxyCommand', config: 'Host gpu\n  ProxyJump b1\nHost b1\n  ProxyCommand nc %h %p\n', alias: 'gpu', want: `jump(${USER_TOKEN}@b1:22 command: nc b1 22)` },
    { description: 'ProxyJump none first wins over a later default', config: 'Host gpu bastion\n  ProxyJump none\nHost *\n  ProxyJump bastion\n', alias: 'gpu', want: 'direct' },
    { description: 'the later default applies to other hosts', config: 'Host gpu bastion\n  ProxyJump none\nHost *\n  ProxyJump bastion\n', alias: 'cpu', want: `jump(${USER_TOKEN}@bastion:22 direct)` },
    {
      description: 'ProxyCommand: %h %p %r %n and %% expanded, nothing quoted',
      config: 'Host gpu\n  HostName GPU.lan\n  User bob\n  Port 2200\n  ProxyCommand ssh -W "%h:%p" %r@bastion %n 100%%\n',
      alias: 'gpu',
      want: 'command: ssh -W "gpu.lan:2200" bob@bastion gpu 100%',
    },
    { description: 'ProxyCommand none first wins over a later default', config: 'Host gpu\n  ProxyCommand none\nHost *\n  ProxyCommand nc %h %p\n', alias: 'gpu', want: 'direct' },
    // readconf.c ignores whichever of the two comes second.
    { description: 'ProxyJump before ProxyCommand: the jump', config: 'Host gpu\n  ProxyJump b1\n  ProxyCommand nc %h %p\n', alias: 'gpu', want: `jump(${USER_TOKEN}@b1:22 direct)` },
    { description: 'ProxyCommand before ProxyJump: the command', config: 'Host gpu\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump b1\n', alias: 'gpu', want: 'command: nc gpu 22' },
  ];
  it.each(rows)('$description', ({ config, alias, want }) => {
    writeHome({ '.ssh/config': config });
    expect(routeLine(resolve(alias).route)).toBe(substitute(want));
  });

  const failures: Array<{ description: string; config: string; alias: string; error: RegExp }> = [
    { description: 'a ProxyJump loop through two hosts', config: 'Host gpu\n  ProxyJump b1\nHost b1\n  ProxyJump b2\nHost b2\n  ProxyJump b1\n', alias: 'gpu', error: /ProxyJump loop: gpu → b1 → b2 → b1/ },
    { description: 'a host that jumps through itself (ssh: jumphost loop)', config: 'Host gpu\n  ProxyJump gpu\n', alias: 'gpu', error: /jumphost loop via gpu/ },
    { description: 'an unknown token in ProxyCommand', config: 'Host gpu\n  ProxyCommand nc %h %z\n', alias: 'gpu', error: /unknown token %z/ },
    { description: 'ProxyCommand - (stdin/stdout)', config: 'Host gpu\n  ProxyCommand -\n', alias: 'gpu', error: /ProxyCommand -/ },
  ];
  it.each(failures)('$description is a usage error', ({ config, alias, error }) => {
    writeHome({ '.ssh/config': config });
    expect(() => resolve(alias)).toThrow(error);
    expect(() => resolve(alias)).toThrow(GsyncError);
  });

  it('a deep chain of distinct hops stops at 8', () => {
    const hops = Array.from({ length: 10 }, (_, i) => `Host h${i}\n  ProxyJump h${i + 1}\n`).join('');
    writeHome({ '.ssh/config': hops });
    expect(() => resolve('h0')).toThrow(/more than 8 hosts deep/);
  });
});

describe('configFile helpers', () => {
  const globs: Array<{ description: string; pattern: string; text: string; want: boolean }> = [
    { description: '* matches anything', pattern: '*', text: 'a.b-c', want: true },
    { description: '* matches the empty string', pattern: 'gpu*', text: 'gpu', want: true },
    { description: '? matches one character', pattern: 'gpu?', text: 'gpu1', want: true },
    { description: 'regex characters are literal', pattern: 'a.b+c(d)', text: 'a.b+c(d)', want: true },
    { description: 'a dot is not a regex wildcard', pattern: 'a.b', text: 'axb', want: false },
    { description: 'brackets are literal', pattern: '[gpu]:22', text: '[gpu]:22', want: true },
    { description: 'anchored at both ends', pattern: 'pu', text: 'gpu1', want: false },
  ];
  it.each(globs)('globMatch: $description', ({ pattern, text, want }) => {
    expect(globMatch(pattern, text)).toBe(want);
  });

  const lists: Array<{ description: string; patterns: string[]; host: string; want: boolean }> = [
    { description: 'one matching pattern', patterns: ['a', 'gpu'], host: 'gpu', want: true },
    { description: 'a negation overrides a match', patterns: ['*', '!gpu'], host: 'gpu', want: false },
    { description: 'a negated wildcard', patterns: ['*', '!*.lan'], host: 'gpu.lan', want: false },
    { description: 'an empty list matches nothing', patterns: [], host: 'gpu', want: false },
  ];
  it.each(lists)('hostPatternsMatch: $description', ({ patterns, host, want }) => {
    expect(hostPatternsMatch(patterns, host)).toBe(want);
  });

  it('readConfigLines lower-cases keys, keeps file and line, expands Include in place', () => {
    writeHome({ '.ssh/config': '# c\nHost gpu\n  Include inc\n  Port 1\n', '.ssh/inc': 'User u\n' });
    const lines = readConfigLines({ file: join(home, '.ssh/config'), userConfig: true, checkPermissions: false }, home);
    expect(lines.map((l) => [l.key, l.args, l.file.slice(home.length), l.line])).toStrictEqual([
      ['host', ['gpu'], '/.ssh/config', 2],
      ['user', ['u'], '/.ssh/inc', 1],
      ['port', ['1'], '/.ssh/config', 4],
    ]);
  });
});

describe('messages send the user to the config file in use', () => {
  it('an unknown alias names the -F file, or ~/.ssh/config without one', () => {
    writeHome({ 'other.conf': 'Host known\n  HostName 127.0.0.1\n' });
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND typo'), { code: 'ENOTFOUND' });
    const viaF = socketError(resolve('typo', { configFile: join(home, 'other.conf') }), notFound);
    expect(viaF.message).toBe(`unknown host alias 'typo': no Host entry for it in ${join(home, 'other.conf')} and no such host`);
    expect(viaF.hint).toBe(`add a Host block for it to ${join(home, 'other.conf')}, or check the spelling`);
    expect(socketError(resolve('typo'), notFound).message).toBe("unknown host alias 'typo': no Host entry for it in ~/.ssh/config and no such host");
  });
});
