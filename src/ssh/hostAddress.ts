import { isIPv6 } from 'node:net';

/**
 * The host name ssh connects to, from HostName (or the name typed), as ssh.c makes it: a name
 * is lower-cased; something that looks like an address is not, and a numeric address is
 * rewritten the way getaddrinfo + getnameinfo print it (`127.1` → `127.0.0.1`, `010.1.1.1` →
 * `8.1.1.1`, `fe80:0::1` → `fe80::1`). An address with a `%scope` is left as written.
 */
export function connectHostName(name: string): string {
  const canonical = canonicalAddress(name);
  if (canonical !== undefined) return canonical.toLowerCase() === name.toLowerCase() ? name : canonical;
  return looksLikeAddress(name) ? name : name.toLowerCase();
}

/** ssh.c's is_addr_fast: numeric, or with a `%scope`. */
function looksLikeAddress(name: string): boolean {
  return name.includes('%') || looksNumeric(name);
}

/** A colon, or only digits and dots: what ssh takes for a numeric host (and what `ssh -G` brackets in a ProxyJump). */
export function looksNumeric(name: string): boolean {
  return name.includes(':') || /^[0-9.]*$/.test(name);
}

function canonicalAddress(name: string): string | undefined {
  if (name.includes(':')) return name.includes('%') || !isIPv6(name) ? undefined : formatIPv6(ipv6Words(name));
  return inetAton(name);
}

/** inet_aton: one to four parts, each decimal, octal (leading 0) or hex (0x); the last fills the remaining bytes. */
function inetAton(name: string): string | undefined {
  const parts = name.split('.');
  if (parts.length > 4) return undefined;
  const values = parts.map(parsePart);
  if (values.some((v) => v === undefined)) return undefined;
  const numbers = values as number[];
  const last = numbers.pop() ?? 0;
  if (numbers.some((v) => v > 255) || last >= 2 ** (8 * (4 - numbers.length))) return undefined;
  const value = numbers.reduce((sum, v, i) => sum + v * 2 ** (8 * (3 - i)), 0) + last;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function parsePart(part: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]*$/.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]*$/.test(part)) return parseInt(part, 8);
  if (/^[1-9][0-9]*$/.test(part)) return parseInt(part, 10);
  return undefined;
}

/** The eight 16-bit words of a valid IPv6 address (an embedded dotted quad included). */
function ipv6Words(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const bytes = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${(((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)).toString(16)}:${(((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const words = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const front = words(head);
  const back = tail === undefined ? [] : words(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** glibc's inet_ntop for IPv6: the first longest run of two or more zero words is `::`; ::a.b.c.d and ::ffff:a.b.c.d keep the dotted quad. */
function formatIPv6(words: readonly number[]): string {
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.length < 2) best = { start: -1, length: 0 };
  const embedsV4 = best.start === 0 && (best.length === 6 || (best.length === 5 && words[5] === 0xffff));
  const hexWords = words.slice(0, embedsV4 ? 6 : 8).map((w) => w.toString(16));
  const quad = embedsV4 ? [(words[6] ?? 0) >> 8, (words[6] ?? 0) & 255, (words[7] ?? 0) >> 8, (words[7] ?? 0) & 255].join('.') : undefined;
  const pieces = quad === undefined ? hexWords : [...hexWords, quad];
  if (best.start < 0) return pieces.join(':');
  const before = pieces.slice(0, best.start).join(':');
  const after = pieces.slice(best.start + best.length).join(':');
  return `${before}::${after}`;
}
