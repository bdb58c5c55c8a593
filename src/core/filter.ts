/**
 * `--include`, `--exclude` and `--exclude-from`, with rsync's semantics (exclude.c: add_rule,
 * rule_matches, check_filter), so a rule list that works for rsync selects the same paths here.
 *
 *   for each rule, in the order given (first match wins; none matching: include):
 *     ends in `/`         → strip it; the rule matches directories only
 *     starts with `/`     → anchored: matched against the whole path from the transfer root
 *     no `/`, no `**`     → matched against the last path component only
 *     a `/`, no `**`      → matched against the path's last (slashes + 1) components
 *     holds `**`          → matched from the path's start or just after any `/`;
 *                           one that starts with `**` is matched against "/" + path
 *     ends in `***`       → a directory is matched as path + "/": "dir/***" is "dir/" + "dir/**"
 *
 * An excluded directory is never descended into: the caller walks top-down and stops there, as
 * rsync's sender does. That is why rsync's idiom "include every directory, include *.pt,
 * exclude *" is needed to reach .pt files below the root, and why it works here too.
 */
import { GsyncError } from '../errors/GsyncError.js';
import { printable } from './printable.js';
import { compileWildcard, literalTokens, matchText, utf8, type Malformed, type Token } from './wildmatch.js';

/**
 * One `--include` or `--exclude` (or a line of an `--exclude-from` file, kind 'exclude'), as the
 * user wrote it. As rsync does for these, a pattern starting `- ` or `+ ` overrides `kind`
 * (`--include '- *.tmp'` excludes), and a lone `!` clears every rule before it.
 */
export interface FilterRule {
  readonly kind: 'include' | 'exclude';
  readonly pattern: string;
}

export type FilterVerdict = 'include' | 'exclude';

export interface Filter {
  /**
   * Whether `relPath` (POSIX, relative to the transfer root, no leading `/`) is transferred.
   * `isDir` is true for directories only: a symlink to a directory is not one. The root ('')
   * is always included.
   */
  verdict(relPath: string, isDir: boolean): FilterVerdict;
  /** No rules: every path is included (a caller can skip asking). */
  readonly empty: boolean;
}

interface CompiledRule {
  readonly verdict: FilterVerdict;
  readonly tokens: readonly Token[];
  readonly dirsOnly: boolean;
  readonly lastComponentOnly: boolean;
  /** A leading `**` may match an empty prefix: the text is "/" + path. */
  readonly leadingSlash: boolean;
  /** A trailing `***` matches the directory itself: for a directory the text is path + "/". */
  readonly trailingSlashForDirs: boolean;
  /** wildmatch_array's `where`: 0 whole text, N the last N components, -1 after any `/`. */
  readonly where: number;
}

const SLASH = 0x2f;

/** Compiles the rules once; verdicts then cost a UTF-8 encoding of the path and the matching. */
export function compileFilter(rules: readonly FilterRule[]): Filter {
  let compiled: CompiledRule[] = [];
  for (const rule of rules) {
    const read = readPrefix(rule);
    if (read === 'clear') compiled = [];
    else if (read !== undefined) compiled.push(compileRule(read.verdict, read.pattern, rule.pattern));
  }
  return {
    empty: compiled.length === 0,
    verdict(relPath: string, isDir: boolean): FilterVerdict {
      if (relPath === '' || compiled.length === 0) return 'include';
      const path = new Subject(utf8(relPath));
      for (const rule of compiled) {
        if (ruleMatches(rule, path, isDir)) return rule.verdict;
      }
      return 'include';
    },
  };
}

/**
 * The patterns of an `--exclude-from` file, in order: one per line (LF, CRLF or CR), blank
 * lines and lines starting with `;` or `#` skipped, everything else kept byte for byte (trailing
 * spaces are part of the pattern, as in rsync). Give each to compileFilter as
 * `{ kind: 'exclude', pattern }`: a `+ ` or `- ` prefix and a lone `!` work there.
 */
export function parseFilterFile(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((line) => line !== '' && !line.startsWith(';') && !line.startsWith('#'));
}

/** parse_rule_tok() with XFLG_OLD_PREFIXES: undefined for an empty rule, which rsync ignores. */
function readPrefix(rule: FilterRule): { verdict: FilterVerdict; pattern: string } | 'clear' | undefined {
  const text = rule.pattern;
  if (text === '') return undefined;
  if (text === '!') return 'clear';
  const prefixed = text.startsWith('- ') ? 'exclude' : text.startsWith('+ ') ? 'include' : undefined;
  if (prefixed === undefined) return { verdict: rule.kind, pattern: text };
  if (text.length === 2) throw badRule(text, { reason: 'no pattern after its prefix', hint: 'write the pattern after "- " or "+ "' });
  return { verdict: prefixed, pattern: text.slice(2) };
}

/** add_rule(): the flags rsync derives from the pattern's text, then its tokens. */
function compileRule(verdict: FilterVerdict, written: string, asGiven: string): CompiledRule {
  // The flags come from the text as written, escapes included (`\**` still counts as a `**`);
  // the characters involved are ASCII, so the string says what rsync's bytes would.
  const dirsOnly = written.length > 1 && written.endsWith('/');
  const pattern = dirsOnly ? written.slice(0, -1) : written;
  const slashes = pattern.split('/').length - 1;
  const anchored = pattern.startsWith('/');
  const wild = /[*?[]/.test(pattern);
  const doubleStar = wild && pattern.includes('**');
  const leadingDoubleStar = doubleStar && pattern.startsWith('**');
  const trailingTripleStar = doubleStar && pattern.endsWith('***');

  const body = utf8(anchored ? pattern.slice(1) : pattern);
  const tokens = wild ? compileWildcard(body) : literalTokens(body);
  if (!Array.isArray(tokens)) throw badRule(asGiven, tokens);
  let where = 0;
  if (!anchored && slashes > 0 && !doubleStar) where = slashes + 1;
  else if (!anchored && doubleStar && !leadingDoubleStar) where = -1;
  return {
    verdict,
    tokens,
    dirsOnly,
    lastComponentOnly: slashes === 0 && !doubleStar,
    leadingSlash: leadingDoubleStar,
    trailingSlashForDirs: trailingTripleStar,
    where,
  };
}

/**
 * A usage error naming the rule as the user wrote it. Backslashes are common in patterns and
 * shown as typed; only a rule holding control characters (from a file, say) is escaped.
 */
function badRule(rule: string, malformed: Malformed): GsyncError {
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  const shown = /[\u0000-\u001f\u007f-\u009f]/.test(rule) ? printable(rule) : rule;
  return new GsyncError('usage', `filter rule '${shown}': ${malformed.reason}`, { hint: malformed.hint });
}

/** rule_matches(): which text the rule is matched against, then the match. */
function ruleMatches(rule: CompiledRule, path: Subject, isDir: boolean): boolean {
  if (rule.dirsOnly && !isDir) return false;
  const text = rule.lastComponentOnly
    ? path.lastComponent()
    : path.withSlashes(rule.leadingSlash, isDir && rule.trailingSlashForDirs);
  return matchText(rule.tokens, text, rule.where);
}

/** A path's bytes, and the variants rules ask for, each built at most once per verdict. */
class Subject {
  private readonly variants = new Map<number, Uint8Array>();

  constructor(private readonly bytes: Uint8Array) {}

  lastComponent(): Uint8Array {
    return this.bytes.subarray(this.bytes.lastIndexOf(SLASH) + 1);
  }

  withSlashes(leading: boolean, trailing: boolean): Uint8Array {
    if (!leading && !trailing) return this.bytes;
    const key = (leading ? 1 : 0) + (trailing ? 2 : 0);
    let text = this.variants.get(key);
    if (text === undefined) {
      text = new Uint8Array(this.bytes.length + (leading ? 1 : 0) + (trailing ? 1 : 0));
      if (leading) text[0] = SLASH;
      text.set(this.bytes, leading ? 1 : 0);
      if (trailing) text[text.length - 1] = SLASH;
      this.variants.set(key, text);
    }
    return text;
  }
}
