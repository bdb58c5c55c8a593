import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GsyncError } from '../../src/errors/GsyncError.js';
import { resolveBuiltin, type Destination } from '../../src/ssh/builtinSettings.js';
import { resolveSettings, resolveSettingsAhead } from '../../src/ssh/resolveSettings.js';
import type { SettingsOverrides, SshSettings } from '../../src/ssh/settings.js';
import { findSshClient, runSshG } from '../../src/ssh/sshG.js';

/**
 * The differential test: each row's config is resolved by gsync's builtin resolver and by
 * OpenSSH's own `ssh -G`, and every SshSettings field must agree. ssh takes `~` and %d from the
 * passwd entry but `$HOME` for an Include's `~` (glob) and ${HOME}: so ssh runs with
 * HOME=<temp dir>, and the builtin gets the same env with home = the passwd home.
 */
const SSH = '/usr/bin/ssh';
const LOCAL = userInfo();

/** `$T$` in config text and arguments stands for the temp dir (HOME). */
const T = '$T$';

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gsync-ssh-settings-'));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function sub(text: string): string {
  return text.split(T).join(tmp);
}

function env(): NodeJS.ProcessEnv {
  return { HOME: tmp, PATH: process.env.PATH ?? '/usr/bin:/bin', FOO: 'foo-value' };
}

/**
 * Every field, as it is compared. ssh -G prints each known_hosts list joined by spaces, so a
 * path with a space cannot be split from its output: those two compare as printed.
 */
const FIELDS: { readonly [K in keyof SshSettings]: (s: SshSettings) => unknown } = {
  alias: (s) => s.alias,
  hostname: (s) => s.hostname,
  port: (s) => s.port,
  user: (s) => s.user,
  identityFiles: (s) => s.identityFiles,
  identitiesOnly: (s) => s.identitiesOnly,
  identityAgent: (s) => s.identityAgent,
  certificateFiles: (s) => s.certificateFiles,
  proxyJump: (s) => s.proxyJump,
  proxyCommand: (s) => s.proxyCommand,
  connectTimeout: (s) => s.connectTimeout,
  serverAliveInterval: (s) => s.serverAliveInterval,
  serverAliveCountMax: (s) => s.serverAliveCountMax,
  strictHostKeyChecking: (s) => s.strictHostKeyChecking,
  userKnownHostsFiles: (s) => s.userKnownHostsFiles.join(' '),
  globalKnownHostsFiles: (s) => s.globalKnownHostsFiles.join(' '),
  hostKeyAlias: (s) => s.hostKeyAlias,
  hashKnownHosts: (s) => s.hashKnownHosts,
  batchMode: (s) => s.batchMode,
  pubkeyAuthentication: (s) => s.pubkeyAuthentication,
  passwordAuthentication: (s) => s.passwordAuthentication,
  kbdInteractiveAuthentication: (s) => s.kbdInteractiveAuthentication,
  ciphers: (s) => s.ciphers,
  kexAlgorithms: (s) => s.kexAlgorithms,
  hostKeyAlgorithms: (s) => s.hostKeyAlgorithms,
};

function comparable(settings: SshSettings): Record<string, unknown> {
  expect(Object.keys(settings).sort()).toStrictEqual(Object.keys(FIELDS).sort());
  return Object.fromEntries(Object.entries(FIELDS).map(([field, read]) => [field, read(settings)]));
}

interface Row {
  readonly description: string;
  /** Files under the temp dir; `cfg` is given to -F unless the row says otherwise. */
  readonly files: Record<string, string>;
  /** `[user@]host`, each resolved both ways. */
  readonly destinations: readonly string[];
  /** -F: `cfg` under the temp dir when unset; `none` and /dev/null as given. */
  readonly configFile?: string;
  readonly overrides?: Omit<SettingsOverrides, 'configFile'>;
}

function destinationOf(text: string): Destination {
  const at = text.lastIndexOf('@');
  return at < 0 ? { host: text } : { host: text.slice(at + 1), user: text.slice(0, at) };
}

function overridesOf(row: Row): SettingsOverrides {
  const configFile = row.configFile === undefined ? join(tmp, 'cfg') : sub(row.configFile);
  const identityFiles = row.overrides?.identityFiles?.map(sub);
  return { ...row.overrides, configFile, ...(identityFiles ? { identityFiles } : {}) };
}

function writeFiles(files: Record<string, string>): void {
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [relative, text] of Object.entries(files)) {
    const path = join(tmp, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, sub(text), { mode: 0o644 });
  }
}

function caught(run: () => unknown): GsyncError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GsyncError);
    return error as GsyncError;
  }
  throw new Error('expected a GsyncError');
}

function builtin(destination: Destination, overrides: SettingsOverrides): SshSettings {
  return resolveBuiltin(destination, overrides, { env: env(), home: LOCAL.homedir, localUser: LOCAL.username, systemConfigFile: null }).settings;
}

const KEYS = { 'keys/id_a': 'not a key: ssh -i only stats it\n', 'keys/id_b': 'x\n' };

const rows: Row[] = [
  {
    description: 'first value wins across Host blocks; IdentityFile accumulates in order',
    files: { cfg: 'Host gpu\n  HostName gpu.example.com\n  Port 2201\n  IdentityFile /k/gpu\nHost gpu\n  Port 2202\n  User first\nHost *\n  User second\n  Port 2222\n  IdentityFile /k/default\n' },
    destinations: ['gpu', 'cpu'],
  },
  { description: 'Host * before a specific block wins over it', files: { cfg: 'Host *\n  Port 1000\nHost gpu\n  Port 2000\n  User gpuuser\n' }, destinations: ['gpu'] },
  { description: 'lines before any Host apply to every host', files: { cfg: 'Port 3000\nUser early\nHost gpu\n  Port 2000\n' }, destinations: ['gpu', 'cpu'] },
  { description: 'wildcards * and ?, and Host patterns are case-sensitive', files: { cfg: 'Host gpu-*\n  Port 2100\nHost gp?\n  User q\nHost GPU\n  HostKeyAlias upper\n' }, destinations: ['gpu-7', 'gpu', 'gpx', 'GPU', 'gpu-'] },
  { description: 'a negated pattern takes the alias out of its block', files: { cfg: 'Host * !gpu\n  Port 1111\nHost !cpu *\n  User notcpu\nHost *\n  Port 2222\n' }, destinations: ['gpu', 'cpu', 'tpu'] },
  { description: 'a Host line with only a negated pattern matches nothing', files: { cfg: 'Host !gpu\n  Port 1111\n' }, destinations: ['cpu', 'gpu'] },
  {
    description: 'several Host blocks each set part, a block listing several names',
    files: { cfg: 'Host a b c\n  User abc\nHost b\n  HostName b.lan\nHost c d\n  Port 2300\n  HostName c.lan\n' },
    destinations: ['a', 'b', 'c', 'd'],
  },
  {
    description: 'Key=Value, quotes, comments, keyword case, CRLF',
    files: { cfg: '# hosts\r\nHOST=gpu # the box\r\n  hostname = gpu.lan\r\n  PORT=2200\r\n  User "alice"\r\n  # Port 1\r\n  IdentityFile /k/a # trailing\r\n  identityfile= /k/b\r\n  CertificateFile /k/cert#notcomment\r\n' },
    destinations: ['gpu'],
  },
  {
    description: "argv quoting: double and single quotes, a quote inside a word, backslash escapes",
    files: { cfg: 'Host gpu\n  IdentityFile "/k/my key"\n  IdentityFile \'/k/single q\'\n  IdentityFile /k/mid"dle wo"rd\n  IdentityFile /k/esc\\ aped\n  User \'bob\'\n' },
    destinations: ['gpu'],
  },
  {
    description: 'Include: a relative glob under ~/.ssh, sorted, hidden files skipped',
    files: {
      cfg: 'Include inc/*.conf\nHost *\n  User fallback\n',
      '.ssh/inc/b.conf': 'Host gpu\n  Port 2002\n  User from-b\n',
      '.ssh/inc/a.conf': 'Host gpu\n  Port 2001\n',
      '.ssh/inc/.hidden.conf': 'Host gpu\n  HostName hidden\n',
      '.ssh/inc/c.txt': 'Host gpu\n  HostName from-c\n',
    },
    destinations: ['gpu', 'cpu'],
  },
  {
    description: 'Include nested three deep, and inside a Host block (the block goes on after it)',
    files: {
      cfg: `Host gpu\n  Include ${T}/one.conf\n  User outer\nHost cpu\n  Include ${T}/one.conf\nHost *\n  IdentityFile /k/last\n`,
      'one.conf': `IdentityFile /k/one\nInclude ${T}/two.conf\nHost other\n  Port 1\n`,
      'two.conf': `Port 2401\nInclude ${T}/three.conf\n`,
      'three.conf': 'HostName deep.lan\n',
    },
    destinations: ['gpu', 'cpu', 'tpu'],
  },
  {
    description: 'an Include inside a block that does not apply can never apply; a Match inside an Include does not leak out',
    files: {
      cfg: `Host other\n  Include ${T}/never.conf\nHost gpu\n  Include ${T}/match.conf\n  Port 2500\n`,
      'never.conf': 'User never\nHost *\n  Port 9\nMatch all\n  HostName never\n',
      'match.conf': 'Match host nothing\n  User nope\n',
    },
    destinations: ['gpu'],
  },
  {
    description: 'Include with a glob in a directory component, and ~/ in the path',
    files: { cfg: 'Include ~/conf.*/x.conf\n', 'conf.a/x.conf': 'Host gpu\n  Port 2601\n', 'conf.b/x.conf': 'Host gpu\n  Port 2602\n  User b\n' },
    destinations: ['gpu'],
  },
  {
    description: 'Match host (the HostName so far) and originalhost (the name typed)',
    files: { cfg: 'Host gpu\n  HostName GPU.Lab\nMatch host gpu.lab\n  User by-host\nMatch originalhost gpu\n  Port 2700\nMatch host gpu\n  IdentityFile /k/by-host-alias\n' },
    destinations: ['gpu', 'cpu'],
  },
  {
    description: 'Match user (-l and user@host), localuser, all, negation, several criteria ANDed',
    files: {
      cfg: `Match user alice\n  Port 2801\nMatch !user alice localuser ${LOCAL.username}\n  IdentityFile /k/not-alice\nMatch host gpu,cpu !originalhost cpu\n  HostKeyAlias anded\nMatch !all\n  User never\nMatch all\n  IdentityFile /k/all\n`,
    },
    destinations: ['alice@gpu', 'bob@cpu', 'gpu'],
  },
  {
    description: 'Match user sees a User set by an earlier line',
    files: { cfg: 'Host gpu\n  User early\nMatch user early\n  Port 2802\n' },
    destinations: ['gpu', 'late@gpu'],
  },
  {
    description: 'Match final and canonical: a second pass where Host lines see the HostName',
    files: {
      cfg: 'Host gpu\n  HostName Real.Example\nMatch final host real.example\n  Port 2901\nHost real.example\n  User fin\nMatch canonical\n  IdentityFile /k/canon\nMatch !final\n  IdentityFile /k/first-pass\n',
    },
    destinations: ['gpu', 'real.example'],
  },
  { description: 'Match exec with a failing command does not match', files: { cfg: 'Match originalhost gpu exec false\n  Port 2902\n' }, destinations: ['gpu'] },
  {
    description: 'HostName: %h and %%, mixed case lower-cased, numeric addresses canonicalised',
    files: { cfg: 'Host gpu\n  HostName %h.Example.COM\nHost pct\n  HostName a%%b\nHost v4\n  HostName 127.1\nHost oct\n  HostName 010.1.1.1\nHost v6\n  HostName FE80:0:0::1\nHost v6b\n  HostName FE80::1\n' },
    destinations: ['gpu', 'pct', 'v4', 'oct', 'v6', 'v6b', 'MiXed', '10.0.0.1'],
  },
  {
    description: 'UserKnownHostsFile: tokens %n %h %p %r %u %k %C %L %l %i %%, ${HOME}, several files',
    files: { cfg: 'Host gpu\n  HostName gpu.lan\n  HostKeyAlias KeyAlias\nHost gpu cpu\n  Port 2200\n  UserKnownHostsFile /kh/%n_%h_%p_%r_%u /kh/%k_%C /kh/%L_%l_%i_%% ${HOME}/kh\n' },
    destinations: ['gpu', 'cli@cpu'],
  },
  { description: 'UserKnownHostsFile none and GlobalKnownHostsFile none', files: { cfg: 'Host gpu\n  UserKnownHostsFile none\n  GlobalKnownHostsFile none\n' }, destinations: ['gpu'] },
  { description: 'GlobalKnownHostsFile set: kept as written (ssh expands only ~, later)', files: { cfg: 'Host gpu\n  GlobalKnownHostsFile ~/g1 /g2 /g/%h\n' }, destinations: ['gpu'] },
  { description: 'user@host overrides User; -l too', files: { cfg: 'Host gpu\n  User cfg\n' }, destinations: ['cli@gpu', 'a@b@gpu', 'gpu'], overrides: { user: 'dash-l' } },
  {
    description: '-o options come before the file and the first wins; -o IdentityFile comes before the config ones',
    files: { cfg: 'Host gpu\n  Port 2200\n  User cfg\n  IdentityFile /k/cfg\n' },
    destinations: ['gpu'],
    overrides: { options: ['Port=3300', 'Port 4400', 'User=opt', 'IdentityFile /k/opt', 'HostName=opt.lan', 'StrictHostKeyChecking accept-new'] },
  },
  { description: '-p and -l come before -o (as if typed first)', files: { cfg: 'Host gpu\n  Port 2200\n' }, destinations: ['gpu'], overrides: { port: 2022, user: 'pl', options: ['Port=3300', 'User=opt'] } },
  {
    description: '-i files come first, then the config; a repeat within the config is dropped, not one between -i and the config',
    files: { ...KEYS, cfg: `Host gpu\n  IdentityFile ${T}/keys/id_a\n  IdentityFile /k/c\n  IdentityFile /k/c\n` },
    destinations: ['gpu'],
    overrides: { identityFiles: [`${T}/keys/id_a`, `${T}/keys/id_b`] },
  },
  {
    description: 'ProxyJump: several hops, ssh:// and a numeric host, as ssh -G rewrites the last (a % alone is not numeric)',
    files: { cfg: 'Host gpu\n  ProxyJump ssh://alice@b1:2222,b2,u@10.0.0.1:23\nHost cpu\n  ProxyJump ssh://bob@b3:2200/\nHost tpu\n  ProxyJump u@[::1]:2200\nHost npu\n  ProxyJump b:ssh\nHost xpu\n  ProxyJump u@b%x:22\n' },
    destinations: ['gpu', 'cpu', 'tpu', 'npu', 'xpu'],
  },
  {
    description: 'ProxyJump: the value ends at a blank, a # starts a comment, none first wins',
    files: { cfg: 'Host gpu\n  ProxyJump b2 , b3\nHost cpu\n  ProxyJump b1,b2#c,d\nHost tpu\n  ProxyJump none\nHost *\n  ProxyJump bastion\n' },
    destinations: ['gpu', 'cpu', 'tpu', 'npu'],
  },
  {
    description: 'ProxyCommand: the rest of the line verbatim, quotes and comment; none first wins',
    files: { cfg: 'Host gpu\n  ProxyCommand ssh -W "%h:%p" bastion # via bastion\nHost cpu\n  ProxyCommand=nc %h %p\nHost tpu\n  ProxyCommand NONE\nHost *\n  ProxyCommand nc -x proxy %h %p\n' },
    destinations: ['gpu', 'cpu', 'tpu', 'npu'],
  },
  {
    description: 'ProxyJump and ProxyCommand: whichever comes first wins',
    files: { cfg: 'Host gpu\n  ProxyJump b1\n  ProxyCommand nc %h %p\nHost cpu\n  ProxyCommand nc %h %p\n  ProxyJump b1\nHost tpu\n  ProxyJump none\nHost *\n  ProxyCommand nc late %h\n' },
    destinations: ['gpu', 'cpu', 'tpu'],
  },
  {
    description: 'ConnectTimeout: seconds, units, none (which a later line can still set)',
    files: { cfg: 'Host gpu\n  ConnectTimeout 5m30s\nHost cpu\n  ConnectTimeout none\nHost cpu tpu\n  ConnectTimeout 7\nHost npu\n  ConnectTimeout 0\n' },
    destinations: ['gpu', 'cpu', 'tpu', 'npu', 'xpu'],
  },
  { description: 'ServerAliveInterval and ServerAliveCountMax', files: { cfg: 'Host gpu\n  ServerAliveInterval 1m\n  ServerAliveCountMax 5\nHost cpu\n  ServerAliveInterval 0\n  ServerAliveCountMax 0\n' }, destinations: ['gpu', 'cpu', 'tpu'] },
  {
    description: 'StrictHostKeyChecking: yes, no, off, true, false, ask, accept-new, in any case',
    files: { cfg: 'Host a\n  StrictHostKeyChecking yes\nHost b\n  StrictHostKeyChecking no\nHost c\n  StrictHostKeyChecking off\nHost d\n  StrictHostKeyChecking TRUE\nHost e\n  StrictHostKeyChecking false\nHost f\n  StrictHostKeyChecking ask\nHost g\n  StrictHostKeyChecking Accept-New\n' },
    destinations: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
  },
  {
    // BatchMode yes sets ServerAliveInterval here: see the Debian test below.
    description: 'BatchMode, HashKnownHosts, IdentitiesOnly, HostKeyAlias (lower-cased)',
    files: { cfg: 'Host gpu\n  BatchMode yes\n  ServerAliveInterval 45\n  HashKnownHosts true\n  IdentitiesOnly yes\n  HostKeyAlias Gpu-Key\nHost cpu\n  BatchMode no\n  HashKnownHosts no\n  IdentitiesOnly false\n' },
    destinations: ['gpu', 'cpu'],
  },
  {
    description: 'IdentityAgent: none, SSH_AUTH_SOCK, $VAR, ${VAR}, a path with tokens',
    files: { cfg: 'Host a\n  IdentityAgent none\nHost b\n  IdentityAgent SSH_AUTH_SOCK\nHost c\n  IdentityAgent $FOO\nHost d\n  IdentityAgent ${FOO}/agent.sock\nHost e\n  IdentityAgent /run/%h-%p-%r.sock\n' },
    destinations: ['a', 'b', 'c', 'd', 'e', 'f'],
  },
  { description: 'CertificateFile accumulates, a repeat dropped', files: { cfg: 'Host gpu\n  CertificateFile /c/one\n  CertificateFile /c/two\nHost *\n  CertificateFile /c/one\n  CertificateFile /c/%h\n' }, destinations: ['gpu'] },
  {
    description: 'Ciphers, KexAlgorithms, HostKeyAlgorithms: explicit lists, +, -, ^ and patterns',
    files: {
      cfg: 'Host a\n  Ciphers aes256-ctr,aes128-ctr\n  KexAlgorithms curve25519-sha256\n  HostKeyAlgorithms ssh-ed25519,rsa-sha2-*\nHost b\n  Ciphers +aes128-cbc\n  KexAlgorithms -diffie-hellman-group14-sha256,sntrup*\n  HostKeyAlgorithms ^ssh-rsa\nHost c\n  Ciphers -*-ctr\n  KexAlgorithms ^ecdh-sha2-nistp521\n  HostKeyAlgorithms -*-cert-v01@openssh.com\nHost d\n  Ciphers +aes128-ctr\n',
    },
    destinations: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    description: 'PasswordAuthentication, KbdInteractiveAuthentication (and its aliases), PubkeyAuthentication multistate',
    files: { cfg: 'Host a\n  PasswordAuthentication no\n  KbdInteractiveAuthentication no\n  PubkeyAuthentication no\nHost b\n  ChallengeResponseAuthentication no\n  PubkeyAuthentication unbound\nHost c\n  PubkeyAuthentication host-bound\n  PasswordAuthentication yes\n' },
    destinations: ['a', 'b', 'c', 'd'],
  },
  { description: 'Port: a service name, a sign, leading zeros', files: { cfg: 'Host a\n  Port ssh\nHost b\n  Port +2222\nHost c\n  Port 0022\n' }, destinations: ['a', 'b', 'c'] },
  { description: 'IdentityFile none and repeats across Host blocks', files: { cfg: 'Host gpu\n  IdentityFile none\n  IdentityFile /k/x\nHost *\n  IdentityFile /k/x\n  IdentityFile ~/.ssh/id_%h\n' }, destinations: ['gpu', 'cpu'] },
  { description: 'no config at all (-F /dev/null): every default', files: {}, configFile: '/dev/null', destinations: ['gpu', 'u@h'] },
  { description: '-F none reads no file at all', files: { cfg: 'Host gpu\n  Port 1\n' }, configFile: 'none', destinations: ['gpu'] },
  { description: 'an unknown keyword that IgnoreUnknown names', files: { cfg: 'IgnoreUnknown Frobnicate\nHost gpu\n  Frobnicate yes\n  Port 2203\n' }, destinations: ['gpu'] },
];

describe('builtin resolver agrees with ssh -G, field by field', () => {
  it('has OpenSSH to compare with', () => {
    expect(existsSync(SSH), `${SSH} is needed for the differential test`).toBe(true);
  });

  it.each(rows)('$description', (row) => {
    writeFiles(row.files);
    const overrides = overridesOf(row);
    for (const text of row.destinations) {
      const destination = destinationOf(text);
      const theirs = runSshG(destination, overrides, SSH, env());
      const ours = builtin(destination, overrides);
      expect(comparable(ours), `${text}: builtin vs ssh -G`).toStrictEqual(comparable(theirs));
    }
  });

  it(`has at least 30 rows (${rows.length})`, () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
  });

  // Debian's keepalive patch; ssh_config(5) there says "(Debian-specific)". The builtin follows upstream.
  it("Debian's ssh alone makes BatchMode yes default ServerAliveInterval to 300", () => {
    writeFiles({ cfg: 'Host gpu\n  BatchMode yes\n' });
    const overrides = { configFile: join(tmp, 'cfg') };
    const debian = /Debian/.test(spawnSync(SSH, ['-V'], { encoding: 'utf8' }).stderr);
    expect(runSshG({ host: 'gpu' }, overrides, SSH, env()).serverAliveInterval).toBe(debian ? 300 : 0);
    expect(builtin({ host: 'gpu' }, overrides).serverAliveInterval).toBe(0);
  });
});

describe('config errors: ssh -G and the builtin both refuse, as a usage error', () => {
  const bad: Array<{ description: string; config: string; message: RegExp }> = [
    { description: 'a bad port', config: 'Host gpu\n  Port 99999\n', message: /Bad port/i },
    { description: 'a bad port in a block that does not apply', config: 'Host other\n  Port nope\nHost gpu\n  Port 22\n', message: /Bad port/i },
    { description: 'a flag that is not yes or no', config: 'Host gpu\n  BatchMode maybe\n', message: /unsupported option/i },
    { description: 'an unknown cipher', config: 'Host gpu\n  Ciphers rot13\n', message: /cipher|Ciphers/ },
    { description: 'an invalid ProxyJump', config: 'Host gpu\n  ProxyJump a,,b\n', message: /Invalid ProxyJump/ },
    { description: 'an unclosed quote', config: 'Host gpu\n  User "bob\n', message: /quotes/ },
    { description: 'Match with no criteria', config: 'Match\n', message: /argument|attributes/ },
    { description: "'all' with other criteria after it", config: 'Match all host gpu\n  Port 1\n', message: /cannot be combined/ },
    { description: 'an unset ${VAR} in IdentityAgent', config: 'Host gpu\n  IdentityAgent ${GSYNC_NO_SUCH_VAR}\n', message: /environment expansion/i },
    { description: 'an Include that includes itself', config: `Include ${T}/cfg\n`, message: /recursive configuration includes/i },
  ];
  it.each(bad)('$description', ({ config, message }) => {
    writeFiles({ cfg: config });
    const overrides = { configFile: join(tmp, 'cfg') };
    for (const resolve of [() => runSshG({ host: 'gpu' }, overrides, SSH, env()), () => builtin({ host: 'gpu' }, overrides)]) {
      let caught: unknown;
      try {
        resolve();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(GsyncError);
      expect((caught as GsyncError).kind).toBe('usage');
      expect((caught as GsyncError).message).toMatch(message);
    }
  });

  it("carries ssh's own message and a hint naming the file", () => {
    writeFiles({ cfg: 'Host gpu\n  Port \u001b[31mred\n' });
    const configFile = join(tmp, 'cfg');
    const error = caught(() => runSshG({ host: 'gpu' }, { configFile }, SSH, env()));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain(`${configFile} line 2: Bad port`);
    // ssh escapes it itself (\033); gsync must not let one through either way.
    expect(error.message).not.toContain('\u001b');
    expect(error.hint).toContain(configFile);
  });

  it('escapes control characters in what ssh prints, and keeps to a few lines', () => {
    writeFiles({ 'fake-ssh': "#!/bin/sh\nprintf 'one \\033[31mred\\n\\n2\\n3\\n4\\n5\\n' >&2\nexit 255\n" });
    chmodSync(join(tmp, 'fake-ssh'), 0o755);
    const error = caught(() => runSshG({ host: 'gpu' }, {}, join(tmp, 'fake-ssh'), env()));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('one \\u001b[31mred; 2; 3; 4');
    expect(error.message).not.toContain('5');
  });

  it('an ssh -G that Ctrl+C (or a hangup) stopped means the run was interrupted, not that the config is wrong', () => {
    for (const signal of ['INT', 'TERM', 'HUP']) {
      writeFiles({ 'fake-ssh': `#!/bin/sh\nkill -${signal} $$\n` });
      chmodSync(join(tmp, 'fake-ssh'), 0o755);
      const error = caught(() => runSshG({ host: 'gpu' }, {}, join(tmp, 'fake-ssh'), env()));
      expect(error.kind, signal).toBe('interrupted');
      expect(error.exitCode).toBe(20);
    }
  });

  it('names the ssh client and the destination, never an -o value (it may hold a password)', () => {
    writeFiles({ 'fake-ssh': '#!/bin/sh\nexit 255\n' });
    chmodSync(join(tmp, 'fake-ssh'), 0o755);
    const options = ['ProxyCommand=sshpass -p hunter2 ssh -W %h:%p jump'];
    const error = caught(() => runSshG({ host: 'gpu' }, { options }, join(tmp, 'fake-ssh'), env()));
    expect(error.message).toContain(`${join(tmp, 'fake-ssh')} -G gpu exited with 255`);
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain('hunter2');
  });
});

describe('resolveSettings picks the resolver', () => {
  it('ssh -G when a client is given, with aliasKnown from the builtin walk', () => {
    writeFiles({ cfg: 'Host gpu\n  Port 2200\n' });
    const got = resolveSettings({ host: 'gpu' }, { configFile: join(tmp, 'cfg') }, { env: env(), sshClient: SSH });
    expect(got.source).toBe('ssh -G');
    expect(got.aliasKnown).toBe(true);
    expect(got.settings.port).toBe(2200);
  });

  it('aliasKnown is true where the builtin cannot answer, so a DNS failure is not called an unknown alias', () => {
    // ssh -G expands ~root from passwd; the builtin refuses ~user paths.
    writeFiles({ cfg: 'Host *\n  UserKnownHostsFile ~root/known_hosts\n' });
    const configFile = join(tmp, 'cfg');
    expect(() => builtin({ host: 'cpu' }, { configFile })).toThrow(/~user paths are not supported/);
    const got = resolveSettings({ host: 'cpu' }, { configFile }, { env: env(), sshClient: SSH });
    expect(got.source).toBe('ssh -G');
    expect(got.settings.userKnownHostsFiles).toStrictEqual(['/root/known_hosts']);
    expect(got.aliasKnown).toBe(true);
  });

  it('reads the ssh -G run ahead of it, once: the same settings, and ssh not asked again', async () => {
    writeFiles({ cfg: 'Host gpu\n  Port 2200\n  User ada\n', 'logging-ssh': `#!/bin/sh\necho "$*" >> '${join(tmp, 'ssh.calls')}'\nexec ${SSH} "$@"\n` });
    chmodSync(join(tmp, 'logging-ssh'), 0o755);
    const calls = (): string[] => (existsSync(join(tmp, 'ssh.calls')) ? readFileSync(join(tmp, 'ssh.calls'), 'utf8').split('\n').filter(Boolean) : []);
    const overrides = { configFile: join(tmp, 'cfg'), options: ['ConnectTimeout=7'] };
    const options = { env: env(), sshClient: join(tmp, 'logging-ssh') };
    await resolveSettingsAhead({ host: 'gpu' }, overrides, options);
    expect(calls()).toHaveLength(2);
    const got = resolveSettings({ host: 'gpu' }, overrides, options);
    expect(calls()).toHaveLength(2);
    expect(got).toStrictEqual(resolveSettings({ host: 'gpu' }, overrides, { env: env(), sshClient: SSH }));
    expect(got.settings.connectTimeout).toBe(7);
    // Taken once: the next resolve asks ssh itself.
    resolveSettings({ host: 'gpu' }, overrides, options);
    expect(calls()).toHaveLength(3);
  });

  it('the builtin when sshClient is null', () => {
    writeFiles({ cfg: 'Host gpu\n  Port 2200\n' });
    const got = resolveSettings({ host: 'cpu' }, { configFile: join(tmp, 'cfg') }, { env: env(), sshClient: null });
    expect(got.source).toBe('builtin');
    expect(got.aliasKnown).toBe(false);
  });

  it('finds ssh on PATH first, then /usr/bin/ssh', () => {
    writeFiles({ 'bin/ssh': '#!/bin/sh\n', 'bin/not-executable/ssh': '' });
    chmodSync(join(tmp, 'bin/ssh'), 0o755);
    expect(findSshClient({ PATH: `${join(tmp, 'nothing')}:${join(tmp, 'bin')}` })).toBe(join(tmp, 'bin/ssh'));
    expect(findSshClient({ PATH: join(tmp, 'bin/not-executable') })).toBe(existsSync('/usr/bin/ssh') ? '/usr/bin/ssh' : undefined);
  });

  it("ssh -G's one-line known_hosts list is split where the builtin saw quotes", () => {
    writeFiles({ cfg: 'Host gpu\n  UserKnownHostsFile "/kh/known hosts" /kh2\n' });
    const got = resolveSettings({ host: 'gpu' }, { configFile: join(tmp, 'cfg') }, { env: env(), sshClient: SSH, home: LOCAL.homedir });
    expect(got.settings.userKnownHostsFiles).toStrictEqual(['/kh/known hosts', '/kh2']);
  });

  it('a missing -i file is a usage error (ssh would only warn and go on without it)', () => {
    writeFiles({ cfg: '' });
    expect(() => resolveSettings({ host: 'gpu' }, { configFile: join(tmp, 'cfg'), identityFiles: [join(tmp, 'nope')] }, { env: env(), sshClient: null })).toThrow(/does not exist/);
  });
});
