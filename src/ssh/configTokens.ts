import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { GsyncError } from '../errors/GsyncError.js';
import type { SshSettings } from './settings.js';

/** A token expansion ssh would refuse: an unknown %-token, a trailing %, an unset ${VAR}. */
export class TokenError extends Error {}

/** What ssh's %-tokens for one connection are made from (ssh.c's DEFAULT_CLIENT_PERCENT_EXPAND_ARGS): the resolved settings. */
export type ConnectionTokens = Pick<SshSettings, 'alias' | 'hostname' | 'port' | 'user' | 'hostKeyAlias'>;

/** The local side of the tokens: %d (the home directory) and %u (the user name). */
export interface LocalTokens {
  readonly home: string;
  readonly localUser: string;
}

/** The full token table: %C %L %i %k %l %n %p %d %h %r %u. */
export function connectionTokenTable(connection: ConnectionTokens, local: LocalTokens): Record<string, string> {
  const thisHost = hostname();
  const port = String(connection.port);
  return {
    C: createHash('sha1').update(thisHost + connection.hostname + port + connection.user).digest('hex'),
    L: thisHost.split('.')[0] ?? thisHost,
    i: String(process.getuid?.() ?? 0),
    k: connection.hostKeyAlias ?? connection.alias,
    l: thisHost,
    n: connection.alias,
    p: port,
    d: local.home,
    h: connection.hostname,
    r: connection.user,
    u: local.localUser,
  };
}

/** misc.c's percent_expand: `%%` is `%`, every other `%x` must be a known token. */
export function percentExpand(value: string, tokens: Readonly<Record<string, string>>): string {
  return value.replace(/%(.?)/gs, (_, token: string) => {
    if (token === '%') return '%';
    if (token === '') throw new TokenError(`invalid format: a lone % at the end of "${value}"`);
    const replacement = tokens[token];
    if (replacement === undefined) throw new TokenError(`unknown token %${token} in "${value}"`);
    return replacement;
  });
}

/** misc.c's dollar_expand: `${VAR}` from the environment; a bare `$VAR` is left alone. */
export function dollarExpand(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{([^}]*)(\}?)/g, (_, name: string, closed: string) => {
    if (closed === '') throw new TokenError(`environment variable '${name}' missing closing '}'`);
    if (name === '') throw new TokenError('zero-length environment variable');
    const found = env[name];
    if (found === undefined) throw new TokenError(`env var \${${name}} has no value`);
    return found;
  });
}

/** Both at once, in one left-to-right pass, as percent_dollar_expand does (an expanded value is not expanded again). */
export function percentDollarExpand(value: string, tokens: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv): string {
  let out = '';
  for (const piece of value.split(/(\$\{[^}]*\}?)/)) out += piece.startsWith('${') ? dollarExpand(piece, env) : percentExpand(piece, tokens);
  return out;
}

/** misc.c's tilde_expand for the current user: `~` and `~/…` from `home`; `~user` is not supported. */
export function tildeExpand(path: string, home: string): string {
  if (!path.startsWith('~')) return path;
  const rest = path.slice(1);
  if (rest !== '' && !rest.startsWith('/')) throw new TokenError(`~user paths are not supported: "${path}"`);
  // ssh joins with one slash and does not normalise the rest.
  const base = home.endsWith('/') ? home : `${home}/`;
  return base + rest.replace(/^\/+/, '');
}

/**
 * How ssh expands a path option where it uses it (IdentityFile, CertificateFile,
 * UserKnownHostsFile, IdentityAgent): `~`, then %-tokens and ${VAR} in one pass.
 */
export function pathExpander(tokens: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv, home: string): (value: string, what: string) => string {
  return (value, what) => expandOrThrow(what, value, () => percentDollarExpand(tildeExpand(value, home), tokens, env));
}

/**
 * Runs one of the expansions above, turning ssh's refusal (a TokenError) into a usage error that
 * names where the value came from: `what` is an ssh_config keyword, or a flag such as `-i`.
 */
export function expandOrThrow(what: string, value: string, expand: () => string, hint = `fix ${what} in the ssh config`): string {
  try {
    return expand();
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    const source = what.startsWith('-') ? what : `ssh config: ${what}`;
    throw new GsyncError('usage', `${source} ${value}: ${error.message}`, { hint });
  }
}
