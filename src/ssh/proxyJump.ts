import { looksNumeric } from './hostAddress.js';
import { parsePort } from './servicePort.js';

/** One ProxyJump hop: `[user@]host[:port]` or `ssh://[user@]host[:port][/]`. */
export interface JumpHop {
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

/** A parsed ProxyJump value: `none`, or the hops in connection order. */
export type ProxyJump = 'none' | { readonly hops: readonly JumpHop[]; readonly text: string };

/**
 * readconf.c's parse_jump, as this OpenSSH (9.2p1 Debian) applies it to a config line: the
 * value ends at the first blank, a `#` starts a comment, hops are separated by commas and each
 * must parse. `text` is what `ssh -G` prints: the hops before the last as written, the last
 * one rebuilt (`ssh://` dropped, a numeric host in brackets). Undefined when ssh says "Invalid ProxyJump".
 */
export function parseProxyJump(value: string): ProxyJump | undefined {
  const word = value.split(/[ \t]/)[0] ?? '';
  if (word.toLowerCase() === 'none') return 'none';
  const list = (word.split('#')[0] ?? '').replace(/[ \t\r\n]+$/, '');
  const hops = list.split(',').map(parseJumpHop);
  const last = hops.at(-1);
  if (!last || hops.some((hop) => hop === undefined)) return undefined;
  const comma = list.lastIndexOf(',');
  const extra = comma > 0 ? `${list.slice(0, comma)},` : '';
  return { hops: hops as JumpHop[], text: extra + formatHop(last) };
}

/** How `ssh -G` prints the last hop (its numeric test has no `%scope` clause, unlike is_addr_fast). */
function formatHop(hop: JumpHop): string {
  const host = looksNumeric(hop.host) ? `[${hop.host}]` : hop.host;
  return `${hop.user === undefined ? '' : `${hop.user}@`}${host}${hop.port === undefined ? '' : `:${hop.port}`}`;
}

/** parse_ssh_uri, else parse_user_host_port (misc.c). */
export function parseJumpHop(text: string): JumpHop | undefined {
  return text.startsWith('ssh://') ? parseSshUri(text.slice('ssh://'.length)) : parseUserHostPort(text);
}

function parseUserHostPort(text: string): JumpHop | undefined {
  const at = text.lastIndexOf('@');
  const user = at < 0 ? undefined : text.slice(0, at);
  if (user === '') return undefined;
  const split = splitHostPort(text.slice(at + 1));
  if (!split || split.delimiter === '/' || split.host === '') return undefined;
  return withPort(user, unbracket(split.host), split.rest);
}

function parseSshUri(text: string): JumpHop | undefined {
  const at = text.indexOf('@');
  let user: string | undefined;
  if (at >= 0) {
    user = urlDecode(text.slice(0, at).split(';')[0] ?? '');
    if (user === undefined || user === '') return undefined;
  }
  const split = splitHostPort(text.slice(at + 1));
  if (!split || split.host === '') return undefined;
  const host = validDomain(unbracket(split.host));
  if (host === undefined) return undefined;
  let rest = split.rest;
  let port: number | undefined;
  if (rest !== '' && split.delimiter === ':') {
    const slash = rest.indexOf('/');
    port = parsePort(slash < 0 ? rest : rest.slice(0, slash));
    if (port === undefined) return undefined;
    rest = slash < 0 ? '' : rest.slice(slash + 1);
  }
  // A path is not allowed in a ProxyJump URI; a bare trailing slash is no path.
  return rest === '' ? { user, host, port } : undefined;
}

function withPort(user: string | undefined, host: string, portText: string): JumpHop | undefined {
  if (portText === '') return { user, host, port: undefined };
  const port = parsePort(portText);
  return port === undefined ? undefined : { user, host, port };
}

/** misc.c's hpdelim2: a host (`[...]` may hold colons), then `:` or `/` and the rest. */
function splitHostPort(text: string): { host: string; delimiter: string; rest: string } | undefined {
  let end: number;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    end = close + 1;
  } else {
    const found = text.search(/[:/]/);
    end = found < 0 ? text.length : found;
  }
  const delimiter = text[end] ?? '';
  if (delimiter !== '' && delimiter !== ':' && delimiter !== '/') return undefined;
  return { host: text.slice(0, end), delimiter, rest: delimiter === '' ? '' : text.slice(end + 1) };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** misc.c's valid_domain: letters, digits, `-`, `_`, single dots; a trailing dot is dropped. */
function validDomain(name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..')) return undefined;
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function urlDecode(text: string): string | undefined {
  if (/%(?![0-9a-fA-F]{2})/.test(text)) return undefined;
  return text.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
