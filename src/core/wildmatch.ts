/**
 * rsync's wildcard matcher (lib/wildmatch.c), compiled. A pattern is parsed once into tokens;
 * matching walks them with the same backtracking, aborts included, as rsync's dowild().
 *
 * Everything works on bytes, as rsync does: the text and the pattern are UTF-8, so `?` is one
 * byte and `??.txt` is what matches `é.txt`. Nothing is ever Unicode-normalised.
 *
 * Where rsync quietly compiles a pattern that can never match (an unterminated `[`, an unknown
 * `[:name:]`, a trailing lone `\`), this says why instead: such a rule is a typo.
 */

export type Token =
  | { readonly type: 'byte'; readonly code: number }
  /** `?`: one byte, never `/`. */
  | { readonly type: 'one' }
  /** `*` stops at `/`; `**` (or any longer run) crosses it. */
  | { readonly type: 'star'; readonly crossesSlash: boolean }
  /** `[...]`, already negated if it was `[!...]`; `/` is never a member. */
  | { readonly type: 'class'; readonly members: Uint8Array };

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const COLON = 0x3a;
const DASH = 0x2d;

const encoder = new TextEncoder();

/** UTF-8 bytes of a name or pattern: what rsync compares. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Why a pattern can never match, and what the user may have meant. */
export interface Malformed {
  readonly reason: string;
  readonly hint: string;
}

/**
 * Tokens for a pattern rsync treats as wildcards (it holds `*`, `?` or `[`): `\` escapes the
 * next byte.
 */
export function compileWildcard(pattern: Uint8Array): Token[] | Malformed {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const byte = pattern[i]!;
    if (byte === BACKSLASH) {
      const escaped = pattern[++i];
      if (escaped === undefined) return { reason: 'it ends with a lone \\', hint: 'write \\\\ for a literal backslash' };
      tokens.push({ type: 'byte', code: escaped });
    } else if (byte === QUESTION) {
      tokens.push({ type: 'one' });
    } else if (byte === STAR) {
      const runStart = i;
      while (pattern[i + 1] === STAR) i++;
      tokens.push({ type: 'star', crossesSlash: i > runStart });
    } else if (byte === OPEN) {
      const parsed = compileClass(pattern, i + 1);
      if ('reason' in parsed) return parsed;
      tokens.push({ type: 'class', members: parsed.members });
      i = parsed.close;
    } else {
      tokens.push({ type: 'byte', code: byte });
    }
  }
  return tokens;
}

/** Tokens for a pattern without wildcards: rsync compares it as it is, `\` included. */
export function literalTokens(pattern: Uint8Array): Token[] {
  return Array.from(pattern, (code): Token => ({ type: 'byte', code }));
}

const UNTERMINATED: Malformed = { reason: 'unterminated [ class', hint: 'close the class with ], or write \\[ for a literal [' };

/**
 * The class starting just after `[`, parsed exactly as dowild() reads it: `!` or `^` negates,
 * `]` first is a member, `a-z` is a byte range, `\` escapes, `[:alpha:]` names an ASCII set and
 * a `[:` without its `:]` is a literal `[`. Returns why it is malformed, or the members and the
 * index of the closing `]`.
 */
function compileClass(pattern: Uint8Array, start: number): { members: Uint8Array; close: number } | Malformed {
  const listed = new Uint8Array(256);
  let i = start;
  let byte = pattern[i];
  const negated = byte === 0x21 /* ! */ || byte === 0x5e; /* ^ */
  if (negated) byte = pattern[++i];
  // A byte the next `-` may start a range from; 0 (no byte can be NUL) after a range or a set.
  let previous = 0;
  do {
    if (byte === undefined) return UNTERMINATED;
    if (byte === BACKSLASH) {
      byte = pattern[++i];
      if (byte === undefined) return UNTERMINATED;
      listed[byte] = 1;
    } else if (byte === DASH && previous !== 0 && pattern[i + 1] !== undefined && pattern[i + 1] !== CLOSE) {
      byte = pattern[++i]!;
      if (byte === BACKSLASH) {
        byte = pattern[++i];
        if (byte === undefined) return UNTERMINATED;
      }
      for (let code = previous; code <= byte; code++) listed[code] = 1;
      byte = 0;
    } else if (byte === OPEN && pattern[i + 1] === COLON) {
      const nameStart = i + 2;
      let end = nameStart;
      while (pattern[end] !== undefined && pattern[end] !== CLOSE) end++;
      if (pattern[end] === undefined) return UNTERMINATED;
      if (end - nameStart - 1 < 0 || pattern[end - 1] !== COLON) {
        // No `:]`: the `[` is an ordinary member and parsing resumes at the `:`.
        listed[OPEN] = 1;
        i = nameStart - 2;
      } else {
        const name = String.fromCharCode(...pattern.subarray(nameStart, end - 1));
        const set = POSIX_CLASSES[name];
        if (set === undefined) {
          return { reason: `unknown character class [:${name}:]`, hint: `the classes are ${Object.keys(POSIX_CLASSES).join(', ')}` };
        }
        for (let code = 0; code < 128; code++) if (set(code)) listed[code] = 1;
        i = end;
        byte = 0;
      }
    } else {
      listed[byte] = 1;
    }
    previous = byte;
    byte = pattern[++i];
  } while (byte !== CLOSE);

  const members = new Uint8Array(256);
  for (let code = 1; code < 256; code++) members[code] = (listed[code] === 1) !== negated && code !== SLASH ? 1 : 0;
  return { members, close: i };
}

/** The C library's classes in rsync's C/UTF-8 locale: ASCII only (a lone byte ≥ 0x80 is in none). */
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isUpper = (c: number): boolean => c >= 0x41 && c <= 0x5a;
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isAlpha = (c: number): boolean => isUpper(c) || isLower(c);
const isGraph = (c: number): boolean => c >= 0x21 && c <= 0x7e;
const POSIX_CLASSES: Record<string, ((code: number) => boolean) | undefined> = {
  alnum: (c) => isAlpha(c) || isDigit(c),
  alpha: isAlpha,
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: isDigit,
  graph: isGraph,
  lower: isLower,
  print: (c) => c >= 0x20 && c <= 0x7e,
  punct: (c) => isGraph(c) && !isAlpha(c) && !isDigit(c),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: isUpper,
  xdigit: (c) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
};

const MATCH = 1;
const NO_MATCH = 0;
/** No later start in the text can match either: stop trying. */
const ABORT_ALL = -1;
/** A `*` met a `/`: only an enclosing `**` may go on trying. */
const ABORT_TO_STARSTAR = -2;
type Outcome = typeof MATCH | typeof NO_MATCH | typeof ABORT_ALL | typeof ABORT_TO_STARSTAR;

/** dowild(): tokens from `t` on against text from `x` on, to its end. */
function matchFrom(tokens: readonly Token[], t: number, text: Uint8Array, x: number): Outcome {
  for (; t < tokens.length; t++, x++) {
    const token = tokens[t]!;
    // A star may match nothing at the end of the text; anything else needs a byte.
    if (token.type === 'star') return matchStar(tokens, t, text, x, token.crossesSlash);
    if (x >= text.length) return ABORT_ALL;
    const byte = text[x]!;
    switch (token.type) {
      case 'byte':
        if (byte !== token.code) return NO_MATCH;
        continue;
      case 'one':
        if (byte === SLASH) return NO_MATCH;
        continue;
      case 'class':
        if (token.members[byte] !== 1) return NO_MATCH;
        continue;
    }
  }
  return x === text.length ? MATCH : NO_MATCH;
}

function matchStar(tokens: readonly Token[], t: number, text: Uint8Array, x: number, crossesSlash: boolean): Outcome {
  if (t + 1 === tokens.length) {
    // A trailing `**` takes everything left; a trailing `*` only what holds no `/`.
    return crossesSlash || text.indexOf(SLASH, x) < 0 ? MATCH : NO_MATCH;
  }
  for (; x < text.length; x++) {
    const outcome = matchFrom(tokens, t + 1, text, x);
    if (outcome !== NO_MATCH) {
      if (!crossesSlash || outcome !== ABORT_TO_STARSTAR) return outcome;
    } else if (!crossesSlash && text[x] === SLASH) {
      return ABORT_TO_STARSTAR;
    }
  }
  return ABORT_ALL;
}

/**
 * wildmatch_array(): `where` 0 matches the whole text; N > 0 only its last N `/`-separated
 * elements (no match when it has fewer); -1 at its start or just after any `/`.
 */
export function matchText(tokens: readonly Token[], text: Uint8Array, where: number): boolean {
  if (where > 0) {
    const start = startOfLastElements(text, where);
    return start !== undefined && matchFrom(tokens, 0, text.subarray(start), 0) === MATCH;
  }
  let outcome = matchFrom(tokens, 0, text, 0);
  if (outcome === MATCH || where === 0 || outcome === ABORT_ALL) return outcome === MATCH;
  for (let x = 0; x < text.length; x++) {
    if (text[x] !== SLASH) continue;
    outcome = matchFrom(tokens, 0, text, x + 1);
    if (outcome !== NO_MATCH && outcome !== ABORT_TO_STARSTAR) return outcome === MATCH;
  }
  return false;
}

/** trailing_N_elements(): where the last `count` elements begin, or undefined if there are fewer. */
function startOfLastElements(text: Uint8Array, count: number): number | undefined {
  for (let x = text.length - 1; x >= 0; x--) {
    if (text[x] === SLASH && --count === 0) return x + 1;
  }
  return count === 1 ? 0 : undefined;
}
