import { createRequire } from 'node:module';

/**
 * The algorithm names ssh2 can negotiate, per kind, in ssh2's order of preference: the ones it
 * offers by default first, then the ones it supports only when asked (ssh-dss, the CBC
 * ciphers, SHA-1 key exchanges). Not OpenSSH's lists: those are algorithmList.ts's.
 */
export interface Ssh2Algorithms {
  readonly ciphers: readonly string[];
  readonly kexAlgorithms: readonly string[];
  readonly hostKeyAlgorithms: readonly string[];
  /** The host key algorithms ssh2 offers when not told otherwise, in its order. */
  readonly defaultHostKeyAlgorithms: readonly string[];
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
      defaultHostKeyAlgorithms: namesOf(constants, 'DEFAULT_SERVER_HOST_KEY'),
    };
  }
  return loaded;
}

function namesOf(constants: Record<string, unknown>, key: string): readonly string[] {
  const value = constants[key];
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) {
    throw new Error(`ssh2's protocol constants have no ${key} list: has ssh2's layout changed?`);
  }
  return Object.freeze([...(value as string[])]);
}
