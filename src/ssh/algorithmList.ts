import { matchPatternList } from './sshPatterns.js';

/**
 * OpenSSH's algorithm tables, for the builtin resolver (machines without ssh have no `ssh -Q`
 * to ask). Taken from OpenSSH_9.2p1 Debian-2+deb12u10: `ssh -Q cipher|kex|HostKeyAlgorithms`
 * for the full lists, `ssh -G -F /dev/null` for the defaults. They say what a config may name
 * and what it resolves to, as ssh -G would print it; what gsync can then negotiate is
 * ssh2Algorithms.ts's.
 */
export interface AlgorithmTable {
  readonly keyword: string;
  readonly all: readonly string[];
  readonly defaults: readonly string[];
  /** HostKeyAlgorithms accepts `*`/`?` patterns in a list; Ciphers and KexAlgorithms only names. */
  readonly wildcards: boolean;
}

export const CIPHERS: AlgorithmTable = {
  keyword: 'Ciphers',
  all: ['3des-cbc', 'aes128-cbc', 'aes192-cbc', 'aes256-cbc', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
  defaults: ['chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'],
  wildcards: false,
};

export const KEX_ALGORITHMS: AlgorithmTable = {
  keyword: 'KexAlgorithms',
  all: [
    'diffie-hellman-group1-sha1', 'diffie-hellman-group14-sha1', 'diffie-hellman-group14-sha256', 'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group-exchange-sha256', 'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521', 'curve25519-sha256', 'curve25519-sha256@libssh.org', 'sntrup761x25519-sha512',
    'sntrup761x25519-sha512@openssh.com',
  ],
  defaults: [
    'sntrup761x25519-sha512', 'sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521', 'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512', 'diffie-hellman-group14-sha256',
  ],
  wildcards: false,
};

export const HOST_KEY_ALGORITHMS: AlgorithmTable = {
  keyword: 'HostKeyAlgorithms',
  all: [
    'ssh-ed25519', 'ssh-ed25519-cert-v01@openssh.com', 'sk-ssh-ed25519@openssh.com', 'sk-ssh-ed25519-cert-v01@openssh.com', 'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp384-cert-v01@openssh.com', 'ecdsa-sha2-nistp521',
    'ecdsa-sha2-nistp521-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
    'webauthn-sk-ecdsa-sha2-nistp256@openssh.com', 'ssh-dss', 'ssh-dss-cert-v01@openssh.com', 'ssh-rsa', 'ssh-rsa-cert-v01@openssh.com',
    'rsa-sha2-256', 'rsa-sha2-256-cert-v01@openssh.com', 'rsa-sha2-512', 'rsa-sha2-512-cert-v01@openssh.com',
  ],
  defaults: [
    'ssh-ed25519-cert-v01@openssh.com', 'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384-cert-v01@openssh.com',
    'ecdsa-sha2-nistp521-cert-v01@openssh.com', 'sk-ssh-ed25519-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
    'rsa-sha2-512-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'rsa-sha2-512', 'rsa-sha2-256',
  ],
  wildcards: true,
};

/** A value ssh refuses ("Bad SSH2 cipher spec" and the like); the caller adds the file and line. */
export function invalidAlgorithmSpec(table: AlgorithmTable, spec: string): string | undefined {
  if (spec.startsWith('-')) return undefined;
  const names = (spec.startsWith('+') || spec.startsWith('^') ? spec.slice(1) : spec).split(',');
  const known = (name: string): boolean =>
    table.wildcards && /[*?]/.test(name) ? table.all.some((a) => matchPatternList(a, name, false) === 1) : table.all.includes(name);
  return names.every((name) => name !== '' && known(name)) ? undefined : `bad ${table.keyword} '${spec}'`;
}

/**
 * kex.c's kex_assemble_names: `+list` appends to the defaults, `-list` removes patterns from
 * them, `^list` puts names first, anything else replaces them; patterns are then expanded
 * against the full list and duplicates dropped. Throws on an empty result, as ssh does.
 */
export function assembleAlgorithms(table: AlgorithmTable, spec: string | undefined): string[] {
  if (spec === undefined || spec === '') return [...table.defaults];
  if (spec.startsWith('-')) return table.defaults.filter((name) => matchPatternList(name, spec.slice(1), false) !== 1);
  const wanted = spec.startsWith('+') ? concatNames(table.defaults, spec.slice(1).split(',')) : spec.startsWith('^') ? concatNames(spec.slice(1).split(','), table.defaults) : spec.split(',');
  let out: string[] = [];
  for (const pattern of wanted) {
    if (pattern.startsWith('!')) throw new Error(`${table.keyword}: negated patterns are not allowed`);
    out = concatNames(out, table.all.filter((name) => matchPatternList(name, pattern, false) === 1));
  }
  if (out.length === 0) throw new Error(`${table.keyword} '${spec}' leaves no algorithm`);
  return out;
}

/** kex_names_cat: `a`, then the names of `b` not already in it. */
function concatNames(a: readonly string[], b: readonly string[]): string[] {
  const out = a.filter((name) => name !== '');
  for (const name of b) if (name !== '' && !out.includes(name)) out.push(name);
  return out;
}
