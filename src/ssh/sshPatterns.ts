/**
 * ssh_config's pattern language, as OpenSSH's match.c has it: `*` and `?`, nothing else; a
 * comma list where `!` negates and a negated match overrides any other.
 */

/** One pattern against one string: `*` any run, `?` one character, all else literal. */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(text);
}

/**
 * match.c's match_pattern_list: 1 when some pattern matches, -1 when a negated one does (it
 * wins), 0 otherwise. With `lowerPatterns`, the patterns are lower-cased first (host names).
 */
export function matchPatternList(text: string, list: string, lowerPatterns: boolean): -1 | 0 | 1 {
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const body = negated ? raw.slice(1) : raw;
    if (!globMatch(lowerPatterns ? body.toLowerCase() : body, text)) continue;
    if (negated) return -1;
    positive = true;
  }
  return positive ? 1 : 0;
}

/** match_hostname: the host is lower-cased, then matched against the lower-cased list. */
export function matchHostname(host: string, list: string): boolean {
  return matchPatternList(host.toLowerCase(), list, true) === 1;
}

/**
 * A Host line's patterns (each a separate word, no comma lists, case-sensitive): the block
 * applies when some pattern matches and no negated one does.
 */
export function hostPatternsMatch(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), host)) return false;
    } else if (globMatch(pattern, host)) {
      matched = true;
    }
  }
  return matched;
}
