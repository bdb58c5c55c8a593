import { createRequire } from 'node:module';

/** The algorithm names ssh2 can negotiate, per kind. */
export interface Ssh2Algorithms {
  readonly ciphers: ReadonlySet<string>;
  readonly kexAlgorithms: ReadonlySet<string>;
  readonly hostKeyAlgorithms: ReadonlySet<string>;
}

let loaded: Ssh2Algorithms | undefined;

/**
 * ssh2 exports no list of what it supports, but its protocol constants hold them
 * (SUPPORTED_CIPHER and friends, already narrowed to what this Node's OpenSSL can do).
 */
export function ssh2Algorithms(): Ssh2Algorithms {
  if (!loaded) {
    const constants = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Record<string, unknown>;
    loaded = {
      ciphers: namesOf(constants, 'SUPPORTED_CIPHER'),
      kexAlgorithms: namesOf(constants, 'SUPPORTED_KEX'),
      hostKeyAlgorithms: namesOf(constants, 'SUPPORTED_SERVER_HOST_KEY'),
    };
  }
  return loaded;
}

function namesOf(constants: Record<string, unknown>, key: string): ReadonlySet<string> {
  const value = constants[key];
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) {
    throw new Error(`ssh2's protocol constants have no ${key} list: has ssh2's layout changed?`);
  }
  return new Set(value as string[]);
}
