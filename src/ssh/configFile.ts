import { readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

/** One `Key value` line of an ssh_config, with the Host/Match block it sits in. */
export interface ConfigLine {
  readonly key: string;
  readonly args: readonly string[];
  readonly file: string;
  readonly line: number;
  /** The Include instances this line came through, outermost first ([] for the top file). */
  readonly origin: readonly number[];
}

/**
 * Reads an ssh_config into a flat list of lines, with `Include` expanded in place (relative
 * paths are under ~/.ssh, globs allowed in the last component). Keys are lower-cased, as
 * ssh_config keywords are case-insensitive.
 */
export function readConfigLines(file: string, sshDir: string): ConfigLine[] {
  let includes = 0;
  return readLines(file, sshDir, [], () => ++includes);
}

function readLines(file: string, sshDir: string, origin: readonly number[], nextInclude: () => number): ConfigLine[] {
  // OpenSSH's own limit on Include nesting.
  if (origin.length > 16) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: ConfigLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const parsed = parseLine(raw);
    if (!parsed) return;
    const entry: ConfigLine = { key: parsed.key, args: parsed.args, file, line: index + 1, origin };
    if (entry.key !== 'include') {
      out.push(entry);
      return;
    }
    for (const pattern of entry.args) {
      for (const included of expandInclude(pattern, sshDir)) out.push(...readLines(included, sshDir, [...origin, nextInclude()], nextInclude));
    }
  });
  return out;
}

function parseLine(raw: string): { key: string; args: string[] } | undefined {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const match = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
  if (!match) return undefined;
  return { key: (match[1] ?? '').toLowerCase(), args: splitArgs(match[2] ?? '') };
}

/** Splits on whitespace, honouring double quotes; stops at an unquoted `#`. */
function splitArgs(text: string): string[] {
  const args: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[2]?.startsWith('#')) break;
    args.push(m[1] ?? m[2] ?? '');
  }
  return args;
}

function expandInclude(pattern: string, sshDir: string): string[] {
  const expanded = pattern.startsWith('~/') ? join(dirname(sshDir), pattern.slice(2)) : pattern;
  const full = isAbsolute(expanded) ? expanded : join(sshDir, expanded);
  const base = full.slice(full.lastIndexOf('/') + 1);
  if (!/[*?[]/.test(base)) return [full];
  const dir = dirname(full);
  try {
    return readdirSync(dir)
      .filter((name) => globMatch(base, name))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** ssh_config's pattern language: `*` and `?`, nothing else. */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(text);
}

/** A Host line's pattern list: matches if some pattern matches and no negated one does. */
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
