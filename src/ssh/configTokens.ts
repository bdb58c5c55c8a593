import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

/** A token expansion ssh would refuse: an unknown %-token, a trailing %, an unset ${VAR}. */
export class TokenError extends Error {}

/** The values of ssh's %-tokens for one connection (ssh.c's DEFAULT_CLIENT_PERCENT_EXPAND_ARGS). */
export interface ConnectionTokens {
  /** %h: the host name connected to (HostName, expanded and lower-cased). */
  readonly host: string;
  /** %n: the name typed. */
  readonly alias: string;
  readonly port: number;
  /** %r: the remote user. */
  readonly user: string;
  /** %k: HostKeyAlias, or else the name typed. */
  readonly keyAlias: string;
  /** %d: the local home directory. */
  readonly home: string;
  /** %u: the local user name. */
  readonly localUser: string;
}

/** The full token table: %C %L %i %k %l %n %p %d %h %r %u. */
export function connectionTokenTable(t: ConnectionTokens): Record<string, string> {
  const thisHost = hostname();
  const port = String(t.port);
  return {
    C: createHash('sha1').update(thisHost + t.host + port + t.user).digest('hex'),
    L: thisHost.split('.')[0] ?? thisHost,
    i: String(process.getuid?.() ?? 0),
    k: t.keyAlias,
    l: thisHost,
    n: t.alias,
    p: port,
    d: t.home,
    h: t.host,
    r: t.user,
    u: t.localUser,
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
