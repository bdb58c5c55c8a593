import { spawnSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  fingerprint,
  hostFieldMatches,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  readKnownHosts,
  verifyHostKey,
  type KnownHost,
} from '../../src/ssh/knownHosts.js';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';

/** SSH wire encoding: a uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** An mpint from an unsigned big-endian value (a leading zero when the top bit is set). */
function sshMpint(unsigned: Buffer): Buffer {
  let value = unsigned;
  while (value.length > 1 && value[0] === 0) value = value.subarray(1);
  return sshString((value[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.alloc(1), value]) : value);
}

/** Real public key blobs, as a server presents them, built from freshly generated keys. */
function ed25519Blob(): Buffer {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(jwk.x ?? '', 'base64url'))]);
}

function ecdsaP256Blob(): Buffer {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(point)]);
}

function rsaBlob(): Buffer {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  return Buffer.concat([sshString('ssh-rsa'), sshMpint(Buffer.from(jwk.e ?? '', 'base64url')), sshMpint(Buffer.from(jwk.n ?? '', 'base64url'))]);
}

/** A `|1|salt|hash` host field exactly as OpenSSH's HashKnownHosts writes it: HMAC-SHA1 keyed by a 20-byte salt. */
function hashedField(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

function line(hosts: string, key: Buffer, marker?: '@revoked' | '@cert-authority'): string {
  return `${marker ? `${marker} ` : ''}${hosts} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

const ed = ed25519Blob();
const edOther = ed25519Blob();
const ecdsa = ecdsaP256Blob();
const rsa = rsaBlob();

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gsync-known-hosts-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes known_hosts files (in order) into the temp dir and reads them back. */
function entriesFrom(...files: string[][]): KnownHost[] {
  const paths = files.map((lines, i) => {
    const path = join(dir, `known_hosts_${i}`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  });
  return readKnownHosts(paths);
}

describe('knownHostsName', () => {
  const rows: Array<{ description: string; host: string; port: number; want: string }> = [
    { description: 'port 22 is the bare host', host: 'gpu.example.com', port: 22, want: 'gpu.example.com' },
    { description: 'another port is bracketed', host: 'gpu.example.com', port: 2222, want: '[gpu.example.com]:2222' },
    { description: 'an IPv4 address on port 22', host: '10.0.0.7', port: 22, want: '10.0.0.7' },
    { description: 'an IPv6 address on port 22 is bare', host: '::1', port: 22, want: '::1' },
    { description: 'an IPv6 address off port 22', host: '::1', port: 2200, want: '[::1]:2200' },
    { description: 'port 1', host: 'h', port: 1, want: '[h]:1' },
  ];
  it.each(rows)('$description', ({ host, port, want }) => {
    expect(knownHostsName(host, port)).toBe(want);
  });
});

describe('hostFieldMatches: a known_hosts host field against a host name', () => {
  const fixedSalt = Buffer.from('0123456789abcdefghij');
  const rows: Array<{ description: string; field: string; name: string; want: boolean }> = [
    { description: 'a plain name matches itself', field: 'gpu.example.com', name: 'gpu.example.com', want: true },
    { description: 'a plain name does not match a longer name', field: 'gpu', name: 'gpu2', want: false },
    { description: 'a plain name does not match a prefix', field: 'gpu2', name: 'gpu', want: false },
    { description: 'a plain name does not match its subdomain', field: 'example.com', name: 'gpu.example.com', want: false },
    { description: 'a dot is literal, not any character', field: 'gpu.example.com', name: 'gpuxexample.com', want: false },
    { description: 'a comma list matches its first name', field: 'gpu,10.0.0.7,gpu.lan', name: 'gpu', want: true },
    { description: 'a comma list matches a middle name', field: 'gpu,10.0.0.7,gpu.lan', name: '10.0.0.7', want: true },
    { description: 'a comma list matches its last name', field: 'gpu,10.0.0.7,gpu.lan', name: 'gpu.lan', want: true },
    { description: 'a comma list does not match another name', field: 'gpu,10.0.0.7,gpu.lan', name: 'cpu', want: false },
    { description: '* matches any name', field: '*', name: 'anything.at.all', want: true },
    { description: '* matches a bracketed name', field: '*', name: '[gpu]:2222', want: true },
    { description: '*.domain matches a host in it', field: '*.example.com', name: 'gpu.example.com', want: true },
    { description: '*.domain does not match the domain itself', field: '*.example.com', name: 'example.com', want: false },
    { description: '* inside an address', field: '192.168.1.*', name: '192.168.1.77', want: true },
    { description: '? matches exactly one character', field: 'gpu?', name: 'gpu7', want: true },
    { description: '? does not match two characters', field: 'gpu?', name: 'gpu17', want: false },
    { description: '? does not match zero characters', field: 'gpu?', name: 'gpu', want: false },
    { description: 'a bracketed name with its port', field: '[gpu]:2222', name: '[gpu]:2222', want: true },
    { description: 'a bracketed name does not match another port', field: '[gpu]:2222', name: '[gpu]:2223', want: false },
    { description: 'a bracketed name does not match port 22', field: '[gpu]:2222', name: 'gpu', want: false },
    { description: 'a wildcard port', field: '[gpu]:*', name: '[gpu]:2222', want: true },
    { description: 'a negation excludes a name a wildcard matched', field: '*.example.com,!bad.example.com', name: 'bad.example.com', want: false },
    { description: 'a negation listed first still excludes', field: '!bad.example.com,*.example.com', name: 'bad.example.com', want: false },
    { description: 'a negation leaves other names matched', field: '*.example.com,!bad.example.com', name: 'good.example.com', want: true },
    { description: 'a negated wildcard', field: '*,!10.*', name: '10.1.2.3', want: false },
    { description: 'a negation alone matches nothing', field: '!bad.example.com', name: 'good.example.com', want: false },
    // OpenSSH compares host names case-insensitively (match_hostname lower-cases the pattern).
    { description: 'a plain name matches case-insensitively', field: 'GPU.Example.com', name: 'gpu.example.com', want: true },
    { description: 'a hashed entry matches its name', field: hashedField('gpu.example.com', fixedSalt), name: 'gpu.example.com', want: true },
    { description: 'a hashed entry does not match another name', field: hashedField('gpu.example.com', fixedSalt), name: 'gpu.example.org', want: false },
    { description: 'a hashed bracketed name matches with its port', field: hashedField('[gpu]:2222'), name: '[gpu]:2222', want: true },
    { description: 'a hashed bracketed name does not match the bare host', field: hashedField('[gpu]:2222'), name: 'gpu', want: false },
    { description: 'a hashed bare host does not match the bracketed name', field: hashedField('gpu'), name: '[gpu]:2222', want: false },
    { description: 'a hashed entry is not a pattern: * is hashed literally', field: hashedField('*'), name: 'gpu', want: false },
    { description: 'a hashed entry with a corrupted hash', field: hashedField('gpu').slice(0, -4) + 'AAA=', name: 'gpu', want: false },
    { description: 'a hashed entry without a hash', field: `|1|${fixedSalt.toString('base64')}`, name: 'gpu', want: false },
    { description: 'a bare |1| marker', field: '|1|', name: 'gpu', want: false },
  ];
  it.each(rows)('$description', ({ field, name, want }) => {
    expect(hostFieldMatches(field, name)).toBe(want);
  });

  it('a fresh salt per entry still matches (the salt is what keys the HMAC)', () => {
    for (let i = 0; i < 20; i++) {
      const field = hashedField('gpu.example.com');
      expect(hostFieldMatches(field, 'gpu.example.com')).toBe(true);
      expect(hostFieldMatches(field, 'gpu.example.co')).toBe(false);
    }
  });
});

describe('verifyHostKey: the decision on a presented key', () => {
  const rows: Array<{
    description: string;
    files: string[][];
    name: string;
    presented: Buffer;
    want: { status: 'match' | 'changed' | 'revoked'; file: number; line: number } | { status: 'unknown'; certAuthorityOnly: boolean };
  }> = [
    { description: 'the key on a plain line matches', files: [[line('gpu', ed)]], name: 'gpu', presented: ed, want: { status: 'match', file: 0, line: 1 } },
    { description: 'the key on a hashed line matches', files: [[line(hashedField('gpu'), ed)]], name: 'gpu', presented: ed, want: { status: 'match', file: 0, line: 1 } },
    { description: 'the key on a wildcard line matches', files: [[line('*.lan', ed)]], name: 'gpu.lan', presented: ed, want: { status: 'match', file: 0, line: 1 } },
    {
      description: 'one of several keys for the host matches',
      files: [[line('gpu', rsa), line('gpu', ecdsa), line('gpu', ed)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'match', file: 0, line: 3 },
    },
    {
      description: 'comments and blank lines are skipped and line numbers kept',
      files: [['# my hosts', '', '   ', line('gpu', ed)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'match', file: 0, line: 4 },
    },
    { description: 'no line for the host: unknown', files: [[line('other', ed)]], name: 'gpu', presented: ed, want: { status: 'unknown', certAuthorityOnly: false } },
    { description: 'an empty file: unknown', files: [[]], name: 'gpu', presented: ed, want: { status: 'unknown', certAuthorityOnly: false } },
    {
      description: 'the port matters: a line for port 22 does not cover another port',
      files: [[line('gpu', ed)]],
      name: '[gpu]:2222',
      presented: ed,
      want: { status: 'unknown', certAuthorityOnly: false },
    },
    {
      description: 'a different key of the same type: changed',
      files: [[line('other', edOther), line('gpu', edOther)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'changed', file: 0, line: 2 },
    },
    {
      description: 'a different key of the same type on a hashed line: changed',
      files: [[line(hashedField('gpu'), edOther)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'changed', file: 0, line: 1 },
    },
    {
      description: 'only keys of other types known: unknown, not changed',
      files: [[line('gpu', rsa), line('gpu', ecdsa)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'unknown', certAuthorityOnly: false },
    },
    {
      description: 'a matching line wins over a stale line of the same type',
      files: [[line('gpu', edOther), line('gpu', ed)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'match', file: 0, line: 2 },
    },
    {
      description: '@revoked wins even when a plain line matches (revoked listed after)',
      files: [[line('gpu', ed), line('gpu', ed, '@revoked')]],
      name: 'gpu',
      presented: ed,
      want: { status: 'revoked', file: 0, line: 2 },
    },
    {
      description: '@revoked wins even when a plain line matches (revoked listed first)',
      files: [[line('gpu', ed, '@revoked'), line('gpu', ed)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'revoked', file: 0, line: 1 },
    },
    {
      description: '@revoked in a second file wins over a match in the first',
      files: [[line('gpu', ed)], [line('*', ed, '@revoked')]],
      name: 'gpu',
      presented: ed,
      want: { status: 'revoked', file: 1, line: 1 },
    },
    {
      description: '@revoked for another key does not revoke this one',
      files: [[line('gpu', edOther, '@revoked'), line('gpu', ed)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'match', file: 0, line: 2 },
    },
    {
      description: 'a @revoked line alone is not a known key',
      files: [[line('gpu', edOther, '@revoked')]],
      name: 'gpu',
      presented: ed,
      want: { status: 'unknown', certAuthorityOnly: false },
    },
    {
      description: 'only a @cert-authority line covers the host: unknown, cert-authority only',
      files: [[line('*.lan', ed, '@cert-authority')]],
      name: 'gpu.lan',
      presented: ed,
      want: { status: 'unknown', certAuthorityOnly: true },
    },
    {
      description: 'a @cert-authority line for other hosts does not count',
      files: [[line('*.corp', ed, '@cert-authority')]],
      name: 'gpu.lan',
      presented: ed,
      want: { status: 'unknown', certAuthorityOnly: false },
    },
    {
      description: 'a @cert-authority line key is never a host key match',
      files: [[line('gpu', ed, '@cert-authority'), line('gpu', ed)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'match', file: 0, line: 2 },
    },
    {
      description: 'lines from several files: the match is in the second',
      files: [[line('other', ed), line('gpu2', ed)], ['# second file', line('gpu', ed)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'match', file: 1, line: 2 },
    },
    {
      description: 'lines from several files: changed is reported from the file that knows the host',
      files: [[line('other', ed)], [line('gpu', edOther)]],
      name: 'gpu',
      presented: ed,
      want: { status: 'changed', file: 1, line: 1 },
    },
  ];
  it.each(rows)('$description', ({ files, name, presented, want }) => {
    const verdict = verifyHostKey(entriesFrom(...files), name, presented);
    if (want.status === 'unknown') {
      expect(verdict).toStrictEqual(want);
      return;
    }
    expect(verdict.status).toBe(want.status);
    if (verdict.status === 'unknown') return;
    expect(verdict.entry.file).toBe(join(dir, `known_hosts_${want.file}`));
    expect(verdict.entry.line).toBe(want.line);
  });

  it('readKnownHosts skips a missing file and keeps reading the others', () => {
    const present = join(dir, 'present');
    writeFileSync(present, `${line('gpu', ed)}\n`);
    const entries = readKnownHosts([join(dir, 'missing'), present]);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ hosts: 'gpu', keyType: 'ssh-ed25519', file: present, line: 1, marker: undefined });
    expect(entries[0]?.key.equals(ed)).toBe(true);
  });

  it('readKnownHosts reads markers and skips lines missing a field', () => {
    const entries = entriesFrom([
      line('a', ed, '@revoked'),
      line('b', ed, '@cert-authority'),
      'c ssh-ed25519',
      '@revoked d',
      line('e', ed),
    ]);
    expect(entries.map((e) => [e.hosts, e.marker, e.line])).toStrictEqual([
      ['a', 'revoked', 1],
      ['b', 'cert-authority', 2],
      ['e', undefined, 5],
    ]);
  });
});

describe('keyTypeOf: the algorithm name at the start of a key blob', () => {
  const rows: Array<{ description: string; blob: Buffer; want: string }> = [
    { description: 'an ed25519 key', blob: ed, want: 'ssh-ed25519' },
    { description: 'an ECDSA P-256 key', blob: ecdsa, want: 'ecdsa-sha2-nistp256' },
    { description: 'an RSA key', blob: rsa, want: 'ssh-rsa' },
    { description: 'an empty buffer', blob: Buffer.alloc(0), want: '' },
    { description: 'a buffer shorter than a length', blob: Buffer.from([0, 0, 1]), want: '' },
  ];
  it.each(rows)('$description', ({ blob, want }) => {
    expect(keyTypeOf(blob)).toBe(want);
  });
});

describe('knownKeyTypes: the types known for a host, for the handshake to ask for first', () => {
  const rows: Array<{ description: string; lines: string[]; name: string; want: string[] }> = [
    { description: 'no lines', lines: [], name: 'gpu', want: [] },
    { description: 'one key', lines: [line('gpu', ed)], name: 'gpu', want: ['ssh-ed25519'] },
    {
      description: 'several types in file order, each once',
      lines: [line('gpu', ecdsa), line('gpu', ed), line('gpu', edOther), line('gpu', rsa)],
      name: 'gpu',
      want: ['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ssh-rsa'],
    },
    { description: 'other hosts do not count', lines: [line('other', rsa), line('gpu', ed)], name: 'gpu', want: ['ssh-ed25519'] },
    { description: 'a hashed line counts', lines: [line(hashedField('gpu'), rsa)], name: 'gpu', want: ['ssh-rsa'] },
    {
      description: '@revoked and @cert-authority lines do not count',
      lines: [line('gpu', rsa, '@revoked'), line('gpu', ecdsa, '@cert-authority'), line('gpu', ed)],
      name: 'gpu',
      want: ['ssh-ed25519'],
    },
  ];
  it.each(rows)('$description', ({ lines, name, want }) => {
    expect(knownKeyTypes(entriesFrom(lines), name)).toStrictEqual(want);
  });
});

// The real ssh-keygen -H: our HMAC must agree with what OpenSSH writes. (globalSetup requires it.)
describe('a known_hosts file hashed by the real ssh-keygen -H', () => {
  it('matches exactly the names it was written for', () => {
    expect(existsSync(SSH_KEYGEN), `${SSH_KEYGEN} is needed`).toBe(true);
    const file = join(dir, 'known_hosts');
    writeFileSync(file, [line('gpu.example.com', ed), line('[gpu.example.com]:2222', ecdsa), line('alpha,10.0.0.9', rsa)].join('\n') + '\n');
    const result = spawnSync(SSH_KEYGEN, ['-H', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const hashed = readFileSync(file, 'utf8');
    expect(hashed).not.toContain('gpu.example.com');
    const entries = readKnownHosts([file]);
    // ssh-keygen -H writes one hashed line per name of a comma list.
    expect(entries).toHaveLength(4);
    for (const entry of entries) expect(entry.hosts).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+$/);

    const cases: Array<{ name: string; key: Buffer; status: string }> = [
      { name: 'gpu.example.com', key: ed, status: 'match' },
      { name: '[gpu.example.com]:2222', key: ecdsa, status: 'match' },
      { name: 'alpha', key: rsa, status: 'match' },
      { name: '10.0.0.9', key: rsa, status: 'match' },
      { name: 'gpu.example.com', key: edOther, status: 'changed' },
      { name: '[gpu.example.com]:2223', key: ecdsa, status: 'unknown' },
      { name: 'gpu.example.org', key: ed, status: 'unknown' },
    ];
    for (const { name, key, status } of cases) expect(verifyHostKey(entries, name, key).status, name).toBe(status);
    expect(knownKeyTypes(entries, 'gpu.example.com')).toStrictEqual(['ssh-ed25519']);
  });

  it('keyTypeOf reads the type of a key ssh-keygen generated', () => {
    const keyFile = join(dir, 'id_test');
    const result = spawnSync(SSH_KEYGEN, ['-q', '-t', 'ecdsa', '-b', '384', '-N', '', '-f', keyFile], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const [type, base64] = readFileSync(`${keyFile}.pub`, 'utf8').trim().split(/\s+/);
    expect(type).toBe('ecdsa-sha2-nistp384');
    expect(keyTypeOf(Buffer.from(base64 ?? '', 'base64'))).toBe('ecdsa-sha2-nistp384');
  });
});

describe('appendKnownHost and fingerprint, checked by the real ssh-keygen', () => {
  it.each([
    { hashed: false, name: '[gpu.example.com]:2222' },
    { hashed: true, name: '[gpu.example.com]:2222' },
    { hashed: true, name: 'gpu.example.com' },
  ])('records $name (hashed: $hashed) so that ssh-keygen -F finds it and nothing else', async ({ hashed, name }) => {
    const file = join(dir, 'sub', 'known_hosts');
    await appendKnownHost(file, name, ed, hashed);
    await appendKnownHost(file, 'other.example.com', ecdsa, hashed);
    const text = readFileSync(file, 'utf8');
    expect(text.includes(name)).toBe(!hashed);
    const find = (host: string): string =>
      spawnSync(SSH_KEYGEN, ['-F', host, '-f', file], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' }).stdout;
    expect(find(name)).toContain(ed.toString('base64'));
    expect(find(name)).not.toContain(ecdsa.toString('base64'));
    expect(find('[gpu.example.com]:2223')).toBe('');
    expect(verifyHostKey(readKnownHosts([file]), name, ed).status).toBe('match');
  });

  it('prints the SHA256 fingerprint ssh-keygen -l prints', () => {
    const file = join(dir, 'key.pub');
    writeFileSync(file, `${line('x', ecdsa)}\n`);
    const listed = spawnSync(SSH_KEYGEN, ['-l', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(listed.stdout.split(' ')[1]).toBe(fingerprint(ecdsa));
  });
});
