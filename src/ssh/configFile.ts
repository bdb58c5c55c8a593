import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { GsyncError } from '../errors/GsyncError.js';
import { ConfigSyntaxError, splitConfigLine } from './configSyntax.js';

/** One `Key value` line of an ssh_config, with where it came from. */
export interface ConfigLine {
  readonly key: string;
  readonly args: readonly string[];
  /** The rest of the line after the keyword, for the keywords that read it raw. */
  readonly rest: string;
  readonly file: string;
  readonly line: number;
  /** The Include instances this line came through, outermost first ([] for the top file). */
  readonly origin: readonly number[];
  /** From the user's config (or -F), not the system-wide one: decides IdentityFile de-duplication as ssh does. */
  readonly userConfig: boolean;
}

export interface ConfigSource {
  readonly file: string;
  /** A user config (~/.ssh/config or -F): relative Includes are under ~/.ssh; else under /etc/ssh. */
  readonly userConfig: boolean;
  /** ssh refuses ~/.ssh/config and included files writable by others; -F files are not checked. */
  readonly checkPermissions: boolean;
}

/** OpenSSH's READCONF_MAX_DEPTH. */
const MAX_INCLUDE_DEPTH = 16;

/**
 * Reads an ssh_config into a flat list of lines with `Include` expanded in place, as readconf.c
 * reads them: every included file is read (even inside a block that does not apply, where its
 * lines can never apply), relative paths are under `~/.ssh` (or /etc/ssh for the system file),
 * `~` is `$HOME` (glob's GLOB_TILDE), globs are sorted. A missing file reads as empty.
 * @param home `$HOME`, which is what ssh's glob expands `~` to in an Include.
 */
export function readConfigLines(source: ConfigSource, home: string): ConfigLine[] {
  let includes = 0;
  return readLines(source.file, source, home, [], () => ++includes);
}

function readLines(file: string, source: ConfigSource, home: string, origin: readonly number[], nextInclude: () => number): ConfigLine[] {
  if (origin.length > MAX_INCLUDE_DEPTH) {
    throw new GsyncError('usage', `ssh config: too many recursive configuration includes (at ${file})`, { hint: 'an Include includes itself, directly or through another file' });
  }
  const text = readConfigText(file, source.checkPermissions);
  const out: ConfigLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const words = splitOrThrow(raw, file, index + 1);
    if (!words) return;
    const entry: ConfigLine = { ...words, file, line: index + 1, origin, userConfig: source.userConfig };
    if (entry.key !== 'include') {
      out.push(entry);
      return;
    }
    for (const pattern of entry.args) {
      for (const included of includePaths(pattern, entry, home)) {
        out.push(...readLines(included, { ...source, checkPermissions: true }, home, [...origin, nextInclude()], nextInclude));
      }
    }
  });
  return out;
}

function readConfigText(file: string, checkPermissions: boolean): string {
  try {
    if (checkPermissions) checkOwnership(file);
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof GsyncError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return '';
    throw new GsyncError('usage', `cannot read ssh config file ${file}: ${code ?? String(error)}`, { hint: 'check the file and its permissions', cause: error });
  }
}

/** readconf.c's check: owned by root or the user, and writable by no one else. */
function checkOwnership(file: string): void {
  const stats = statSync(file);
  const uid = process.getuid?.();
  if (uid === undefined || stats.isDirectory()) return;
  if ((stats.uid !== 0 && stats.uid !== uid) || (stats.mode & 0o022) !== 0) {
    throw new GsyncError('usage', `ssh config: bad owner or permissions on ${file}`, { hint: `ssh refuses it too: chmod go-w ${file}` });
  }
}

function splitOrThrow(raw: string, file: string, line: number): ReturnType<typeof splitConfigLine> {
  try {
    return splitConfigLine(raw);
  } catch (error) {
    if (error instanceof ConfigSyntaxError) throw configLineError({ file, line }, error.message);
    throw error;
  }
}

/** A usage error naming the file and line, as ssh names them. */
export function configLineError(where: { file: string; line: number }, message: string): GsyncError {
  const place = where.line > 0 ? `${where.file}:${where.line}` : where.file;
  return new GsyncError('usage', `ssh config ${place}: ${message}`, { hint: `fix that line of ${where.file}; ssh refuses it too` });
}

function includePaths(pattern: string, where: ConfigLine, home: string): string[] {
  if (pattern === '') throw configLineError(where, 'keyword include empty argument');
  if (pattern.startsWith('~') && !where.userConfig) throw configLineError(where, `bad include path ${pattern}`);
  const anchored = isAbsolute(pattern) || pattern.startsWith('~') ? pattern : `${where.userConfig ? '~/.ssh' : '/etc/ssh'}/${pattern}`;
  return globPaths(expandGlobTilde(anchored, home));
}

/** glob(3)'s GLOB_TILDE for `~` and `~/…` (from $HOME); `~user` is left alone and matches nothing. */
function expandGlobTilde(path: string, home: string): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

/** glob(3) over an absolute path: `*`, `?` and `[...]` in any component; sorted; hidden names need a literal dot. */
function globPaths(path: string): string[] {
  const parts = path.split('/').filter((part) => part !== '');
  let found = ['/'];
  for (const part of parts) {
    found = found.flatMap((dir) => (/[*?[]/.test(part) ? matchingEntries(dir, part) : [join(dir, unescapeGlob(part))]));
  }
  return found.filter((candidate) => exists(candidate));
}

function matchingEntries(dir: string, pattern: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const re = fnmatchRegExp(pattern);
  return names
    .filter((name) => re.test(name) && (!name.startsWith('.') || pattern.startsWith('.')))
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map((name) => join(dir, name));
}

// glob(3)'s fnmatch, not sshPatterns.globMatch: Include paths also take `[...]` and `\` escapes, which Host patterns treat as literal.
function fnmatchRegExp(pattern: string): RegExp {
  let source = '';
  for (let at = 0; at < pattern.length; at++) {
    const c = pattern[at] ?? '';
    const close = c === '[' ? pattern.indexOf(']', at + 2) : -1;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '\\' && at + 1 < pattern.length) source += escapeRegExp(pattern[++at] ?? '');
    else if (close > 0) {
      const body = pattern.slice(at + 1, close);
      source += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      at = close;
    } else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function unescapeGlob(part: string): string {
  return part.replace(/\\(.)/g, '$1');
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
