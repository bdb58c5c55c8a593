import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { matchHostname } from './sshPatterns.js';

/** One usable line of a known_hosts file. */
export interface KnownHost {
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  readonly hosts: string;
  readonly keyType: string;
  readonly key: Buffer;
  readonly file: string;
  readonly line: number;
}

export type HostKeyVerdict =
  | { readonly status: 'match'; readonly entry: KnownHost }
  | { readonly status: 'unknown'; readonly certAuthorityOnly: boolean }
  | { readonly status: 'changed'; readonly entry: KnownHost }
  | { readonly status: 'revoked'; readonly entry: KnownHost };

/** The name known_hosts files use for a host: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function readKnownHosts(files: readonly string[]): KnownHost[] {
  const out: KnownHost[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    text.split('\n').forEach((raw, index) => {
      const entry = parseKnownHostLine(raw, file, index + 1);
      if (entry) out.push(entry);
    });
  }
  return out;
}

function parseKnownHostLine(raw: string, file: string, line: number): KnownHost | undefined {
  const fields = raw.trim().split(/\s+/);
  if (fields.length === 0 || fields[0] === '' || fields[0]?.startsWith('#')) return undefined;
  let marker: KnownHost['marker'];
  if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
    marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
    fields.shift();
  }
  const [hosts, keyType, keyBase64] = fields;
  if (!hosts || !keyType || !keyBase64) return undefined;
  return { marker, hosts, keyType, key: Buffer.from(keyBase64, 'base64'), file, line };
}

/** Does a known_hosts host field (a pattern list or a `|1|salt|hash` entry) name this host? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  return matchHostname(name, field);
}

/**
 * OpenSSH's decision for a presented host key: a revoked key is refused outright; a match on
 * any line accepts; a line for this host with a different key of the same type means the key
 * changed; otherwise the host is unknown.
 */
export function verifyHostKey(entries: readonly KnownHost[], name: string, presented: Buffer): HostKeyVerdict {
  const forHost = entries.filter((e) => hostFieldMatches(e.hosts, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.equals(presented));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((e) => e.marker === undefined);
  const match = plain.find((e) => e.key.equals(presented));
  if (match) return { status: 'match', entry: match };
  const type = keyTypeOf(presented);
  const changed = plain.find((e) => e.keyType === type);
  if (changed) return { status: 'changed', entry: changed };
  return { status: 'unknown', certAuthorityOnly: forHost.some((e) => e.marker === 'cert-authority') };
}

/** Key types this host is known by, so the handshake can ask for one of those first. */
export function knownKeyTypes(entries: readonly KnownHost[], name: string): string[] {
  const types = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name)).map((e) => e.keyType);
  return [...new Set(types)];
}

/** The algorithm name at the start of an SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/**
 * Records a first-seen key the way ssh does (accept-new, or "yes" at the ask prompt): appended
 * to the first UserKnownHostsFile, the name hashed (`|1|salt|hash`) when HashKnownHosts says so.
 */
export async function appendKnownHost(file: string, name: string, key: Buffer, hashed: boolean): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // A file whose last line has no newline would have ours glued onto it, spoiling both.
  const separator = endsWithoutNewline(file) ? '\n' : '';
  await appendFile(file, `${separator}${hashed ? hashedName(name) : name} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}

function endsWithoutNewline(file: string): boolean {
  try {
    const text = readFileSync(file);
    return text.length > 0 && text[text.length - 1] !== 0x0a;
  } catch {
    return false;
  }
}

function hashedName(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** `SHA256:...` as ssh prints a key's fingerprint. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}
