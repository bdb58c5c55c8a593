import { ConfigSyntaxError, strdelim } from './configSyntax.js';
import { matchHostname, matchPatternList } from './sshPatterns.js';

/** What a Match line is tested against, at the point of the walk where it appears. */
export interface MatchSubject {
  /** `host`: HostName so far (its %h expanded) or the name typed; in the final pass, the final host name. */
  readonly host: string;
  /** `originalhost`: the name typed. */
  readonly originalHost: string;
  /** `user`: the remote user so far (-l, user@host or an earlier User line), else the local user. */
  readonly user: string;
  readonly localUser: string;
  /** True in the second pass that `Match final` (or CanonicalizeHostname) asks for. */
  readonly finalPass: boolean;
}

export interface MatchResult {
  readonly matches: boolean;
  /** The line names `final`, so ssh reads the config a second time. */
  readonly wantsFinalPass: boolean;
}

/**
 * readconf.c's match_cfg_line (9.2: words split by strdelim): criteria are ANDed, `!` negates
 * one, `all` stands alone (or last), `canonical` and `final` match only in the final pass.
 * `exec` is never run: a line with it does not match, negated or not, since gsync cannot know
 * what the command would say. Throws ConfigSyntaxError where ssh reports a bad Match condition.
 */
export function evaluateMatch(rest: string, subject: MatchSubject): MatchResult {
  const words = matchWords(rest);
  let matches = true;
  let attributes = 0;
  let wantsFinalPass = false;
  for (let at = 0; at < words.length; at++) {
    const word = words[at] ?? '';
    const negate = word.startsWith('!');
    const attribute = (negate ? word.slice(1) : word).toLowerCase();
    if (attribute === 'all') {
      if (attributes > 1 || at + 1 < words.length) throw new ConfigSyntaxError(`'${word}' cannot be combined with other Match attributes`);
      return { matches: matches && !negate, wantsFinalPass };
    }
    attributes++;
    if (attribute === 'canonical' || attribute === 'final') {
      wantsFinalPass ||= attribute === 'final';
      if (subject.finalPass === negate) matches = false;
      continue;
    }
    const argument = words[++at];
    if (argument === undefined) throw new ConfigSyntaxError(`missing Match criteria for ${attribute}`);
    const result = criterion(attribute, argument, subject);
    if (result === 'never' || result === negate) matches = false;
  }
  if (attributes === 0) throw new ConfigSyntaxError('one or more attributes required for Match');
  return { matches, wantsFinalPass };
}

function criterion(attribute: string, argument: string, subject: MatchSubject): boolean | 'never' {
  switch (attribute) {
    case 'host':
      return matchHostname(subject.host, argument);
    case 'originalhost':
      return matchHostname(subject.originalHost, argument);
    case 'user':
      return matchPatternList(subject.user, argument, false) === 1;
    case 'localuser':
      return matchPatternList(subject.localUser, argument, false) === 1;
    case 'exec':
      return 'never';
    default:
      throw new ConfigSyntaxError(`unsupported Match attribute ${attribute}`);
  }
}

/** The words of a Match line up to a comment, split as strdelim splits them. */
function matchWords(rest: string): string[] {
  const words: string[] = [];
  let from: number | undefined = 0;
  while (from !== undefined && from < rest.length) {
    const word = strdelim(rest, from);
    if (!word || word.token === '' || word.token.startsWith('#')) break;
    words.push(word.token);
    from = word.next;
  }
  return words;
}
