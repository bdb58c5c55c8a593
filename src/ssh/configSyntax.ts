/**
 * One ssh_config line split the way OpenSSH 9.2's readconf.c splits it: the keyword by
 * `strdelim` (whitespace, a double quote or one `=` ends it), the arguments by `argv_split`
 * (single and double quotes, backslash escapes, a word starting with `#` ends the line).
 * A few keywords read the rest of the line raw instead, so it is kept too.
 */

const WHITESPACE = ' \t\r\n';

export interface LineWords {
  /** Lower-cased, as keywords are case-insensitive. */
  readonly key: string;
  readonly args: readonly string[];
  /** The text after the keyword and its separator, trailing whitespace removed (ProxyCommand, ProxyJump and Match read this). */
  readonly rest: string;
}

/** A line ssh refuses; `message` is ssh's complaint, without the file and line. */
export class ConfigSyntaxError extends Error {}

/** Undefined for blank and comment lines (and for a keyword with an unclosed quote, which ssh skips). */
export function splitConfigLine(raw: string): LineWords | undefined {
  const line = raw.replace(/[ \t\r\n\f]+$/, '');
  if (line === '') return undefined;
  let word = strdelim(line, 0);
  if (word?.token === '') word = word.next === undefined ? undefined : strdelim(line, word.next);
  if (!word || word.token === '' || word.token.startsWith('#')) return undefined;
  const key = word.token.toLowerCase();
  const start = word.next === undefined ? line.length : skipWhitespace(line, word.next);
  if (start >= line.length) throw new ConfigSyntaxError(`no argument after keyword "${key}"`);
  const rest = line.slice(start);
  return { key, args: argvSplit(rest), rest };
}

interface Delimited {
  readonly token: string;
  /** Where the next token starts; undefined at the end of the line. */
  readonly next: number | undefined;
}

/** misc.c's strdelim: the next token, split on whitespace, a double quote or a single `=`. */
export function strdelim(text: string, from: number): Delimited | undefined {
  let stop = from;
  while (stop < text.length && !`${WHITESPACE}"=`.includes(text[stop] ?? '')) stop++;
  if (stop >= text.length) return { token: text.slice(from), next: undefined };
  if (text[stop] === '"') {
    const close = text.indexOf('"', stop + 1);
    if (close < 0) return undefined;
    return { token: text.slice(from, stop) + text.slice(stop + 1, close), next: skipWhitespace(text, close + 1) };
  }
  const sawEquals = text[stop] === '=';
  let next = skipWhitespace(text, stop + 1);
  if (!sawEquals && text[next] === '=') next = skipWhitespace(text, next + 1);
  return { token: text.slice(from, stop), next };
}

function skipWhitespace(text: string, from: number): number {
  let at = from;
  while (at < text.length && WHITESPACE.includes(text[at] ?? '')) at++;
  return at;
}

/** misc.c's argv_split with terminate_on_comment: quotes group, `\` escapes quotes, itself and (unquoted) a space. */
function argvSplit(text: string): string[] {
  const args: string[] = [];
  let at = 0;
  while (at < text.length) {
    const c = text[at];
    if (c === ' ' || c === '\t') {
      at++;
      continue;
    }
    if (c === '#') break;
    const word = readWord(text, at);
    args.push(word.value);
    at = word.end;
  }
  return args;
}

function readWord(text: string, from: number): { value: string; end: number } {
  let value = '';
  let quote = '';
  let at = from;
  for (; at < text.length; at++) {
    const c = text[at] ?? '';
    const next = text[at + 1] ?? '';
    if (c === '\\' && (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' '))) {
      value += next;
      at++;
    } else if (quote === '' && (c === ' ' || c === '\t')) {
      break;
    } else if (quote === '' && (c === '"' || c === "'")) {
      quote = c;
    } else if (quote !== '' && c === quote) {
      quote = '';
    } else {
      value += c;
    }
  }
  if (quote !== '') throw new ConfigSyntaxError('invalid quotes');
  return { value, end: at };
}

/** What ProxyCommand reads: the rest of the line verbatim, quotes and comments included. */
export function rawValue(rest: string): string {
  return rest.replace(/^[ \t\r\n=]+/, '');
}
