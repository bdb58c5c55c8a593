import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthHandlerMiddleware } from 'ssh2';
import type { ConnectSpec } from './spec.js';

/** The keys gsync can offer, and why others were passed over (for the hint when auth fails). */
export interface Identities {
  readonly keys: ReadonlyArray<{ readonly file: string; readonly key: Buffer }>;
  readonly skipped: readonly string[];
}

/** Loads the identity files; never prompts (a passphrase belongs in ssh-agent). */
export function loadIdentities(spec: ConnectSpec): Identities {
  const keys: Array<{ file: string; key: Buffer }> = [];
  const skipped: string[] = [];
  for (const file of spec.identityFiles) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      continue;
    }
    const parsed = ssh2.utils.parseKey(data);
    if (parsed instanceof Error) {
      skipped.push(/encrypted|passphrase/i.test(parsed.message) ? `${file} (needs a passphrase: add it to ssh-agent)` : `${file} (unreadable key)`);
      continue;
    }
    keys.push({ file, key: data });
  }
  return { keys, skipped };
}

/** Offers each key in order, then the agent, as ssh does with the same settings. */
export function makeAuthHandler(spec: ConnectSpec, identities: Identities): AuthHandlerMiddleware {
  const methods: AnyAuthMethod[] = identities.keys.map(({ key }) => ({ type: 'publickey', username: spec.user, key }));
  // IdentitiesOnly keeps the agent from offering keys the config did not name; with no key files
  // at all there is nothing to restrict to, and ssh falls back to the agent too.
  if (spec.agentSocket && (!spec.identitiesOnly || identities.keys.length === 0)) {
    methods.push({ type: 'agent', username: spec.user, agent: spec.agentSocket });
  }
  let index = 0;
  return (_authsLeft, _partialSuccess, next) => {
    const method = methods[index++];
    // ssh2 takes `false` for "no more methods"; its types do not say so.
    next(method ?? (false as unknown as AnyAuthMethod));
  };
}
