import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GsyncError } from '../errors/GsyncError.js';
import { configLineError, readConfigLines, type ConfigLine, type ConfigSource } from './configFile.js';
import { ConfigSyntaxError, splitConfigLine } from './configSyntax.js';
import { expandOrThrow, percentExpand, tildeExpand } from './configTokens.js';
import { connectHostName } from './hostAddress.js';
import { evaluateMatch, type MatchSubject } from './matchLine.js';
import { addFile, applyOption, type Collected, type OptionLine } from './settingsCollector.js';
import { finishSettings } from './settingsDefaults.js';
import type { ResolvedSettings, SettingsOverrides } from './settings.js';
import { hostPatternsMatch } from './sshPatterns.js';

/** The name typed, and the user given with it (`user@host`) or by `-l`. */
export interface Destination {
  readonly host: string;
  readonly user?: string | undefined;
}

export interface BuiltinContext {
  readonly env: NodeJS.ProcessEnv;
  /** What ssh takes from the passwd entry: `~`, %d, where ~/.ssh/config is. gsync passes $HOME. */
  readonly home: string;
  readonly localUser: string;
  /** /etc/ssh/ssh_config, read after the user's config when there is no -F; null reads none. */
  readonly systemConfigFile: string | null;
}

/**
 * gsync's own ssh_config resolver, for machines without an ssh client: the same walk as
 * OpenSSH 9.2's readconf.c (first value wins, Host and Match, Include, the second pass that
 * `Match final` asks for), then ssh.c's tidying and fill_default_options. It does not resolve
 * names (CanonicalizeHostname) and does not run `Match exec`.
 */
export function resolveBuiltin(destination: Destination, overrides: SettingsOverrides, context: BuiltinContext): ResolvedSettings {
  const collected: Collected = { identityFiles: [], certificateFiles: [] };
  applyOverrides(collected, destination, overrides, context);
  const linesPerSource = configSources(overrides.configFile, context).map((source) => readConfigLines(source, context.env.HOME ?? context.home));
  const alias = destination.host;
  const firstPassResults = linesPerSource.map((lines) => walk(lines, collected, { hostArg: alias, alias, finalPass: false }, context));
  const host = connectHostName(hostNameOf(collected.hostname, alias));
  if (firstPassResults.some((result) => result.wantsFinalPass) || collected.canonicalizeHostname) {
    // The second pass matches Host lines against the final host name, and HostName is settled.
    collected.hostname = host;
    for (const lines of linesPerSource) walk(lines, collected, { hostArg: host, alias, finalPass: true }, context);
  }
  return {
    settings: finishSettings(collected, { alias, host, ...context }),
    source: 'builtin',
    aliasKnown: firstPassResults.some((result) => result.aliasKnown),
  };
}

/** -i, -p, -l (or user@host), then -o: all before the config files, as ssh parses its command line first. */
function applyOverrides(collected: Collected, destination: Destination, overrides: SettingsOverrides, context: BuiltinContext): void {
  for (const file of overrides.identityFiles ?? []) {
    const path = expandOrThrow('-i', file, () => tildeExpand(file, context.home), 'write the path out in full');
    // ssh warns and drops an -i file it cannot stat.
    if (existsSync(path)) addFile(collected.identityFiles, path, 1, true);
  }
  if (overrides.port !== undefined) {
    if (!Number.isInteger(overrides.port) || overrides.port < 1 || overrides.port > 65535) {
      throw new GsyncError('usage', `bad port ${overrides.port}`, { hint: 'give -p a number from 1 to 65535' });
    }
    collected.port = overrides.port;
  }
  const user = destination.user ?? overrides.user;
  if (user !== undefined) collected.user = user;
  for (const option of overrides.options ?? []) applyCommandLineOption(collected, option, context);
}

function applyCommandLineOption(collected: Collected, option: string, context: BuiltinContext): void {
  const where = { file: `-o ${JSON.stringify(option)}`, line: 0 };
  try {
    const words = splitConfigLine(option);
    if (!words) return;
    if (['host', 'match', 'include'].includes(words.key)) throw new ConfigSyntaxError(`${words.key} is not supported as a command-line option`);
    applyOption(collected, { ...words, fileSource: 2 }, true, context.env);
  } catch (error) {
    if (error instanceof ConfigSyntaxError) throw configLineError(where, error.message);
    throw error;
  }
}

/** -F (or `-F none`), else ~/.ssh/config then the system file. */
function configSources(configFile: string | undefined, context: BuiltinContext): ConfigSource[] {
  if (configFile !== undefined) {
    if (configFile.toLowerCase() === 'none') return [];
    if (!isReadableFile(configFile)) {
      throw new GsyncError('usage', `ssh config file ${configFile} does not exist or cannot be read`, { hint: 'check the path given to -F' });
    }
    return [{ file: configFile, userConfig: true, checkPermissions: false }];
  }
  const user: ConfigSource = { file: join(context.home, '.ssh', 'config'), userConfig: true, checkPermissions: true };
  return context.systemConfigFile === null ? [user] : [user, { file: context.systemConfigFile, userConfig: false, checkPermissions: false }];
}

/** A file or a device such as /dev/null, as ssh can fopen them. */
function isReadableFile(path: string): boolean {
  try {
    const stats = statSync(path);
    return stats.isFile() || stats.isCharacterDevice();
  } catch {
    return false;
  }
}

/** One reading of the config files: the first with the name typed, the final one with the host name. */
interface Pass {
  /** What Host lines match: the name typed, or in the final pass the final host name. */
  readonly hostArg: string;
  readonly alias: string;
  readonly finalPass: boolean;
}

/** What a Match line sees at this point of the walk (match_cfg_line reads the options set so far). */
function matchSubject(collected: Collected, pass: Pass, context: BuiltinContext): MatchSubject {
  return {
    host: pass.finalPass ? pass.hostArg : hostNameOf(collected.hostname, pass.alias),
    originalHost: pass.alias,
    user: collected.user ?? context.localUser,
    localUser: context.localUser,
    finalPass: pass.finalPass,
  };
}

/** HostName with its %h (the only token it takes) expanded, or the name typed. */
function hostNameOf(hostname: string | undefined, alias: string): string {
  if (hostname === undefined) return alias;
  return expandOrThrow('HostName', hostname, () => percentExpand(hostname, { h: alias }), 'HostName takes only the %h token');
}

interface PassResult {
  readonly wantsFinalPass: boolean;
  /** A Host line that applied named the alias literally. */
  readonly aliasKnown: boolean;
}

/**
 * One pass over one top-level file. Host and Match lines switch the lines after them on or
 * off; an Include that starts where lines do not apply can never apply (NEVERMATCH); when an
 * Include ends, the including file's state comes back.
 */
function walk(lines: readonly ConfigLine[], collected: Collected, pass: Pass, context: BuiltinContext): PassResult {
  let active = true;
  let neverMatch = false;
  let wantsFinalPass = false;
  let aliasKnown = false;
  const includes: Array<{ id: number; active: boolean; neverMatch: boolean }> = [];
  for (const line of lines) {
    for (let top = includes.at(-1); top && line.origin[includes.length - 1] !== top.id; top = includes.at(-1)) {
      includes.pop();
      ({ active, neverMatch } = top);
    }
    while (includes.length < line.origin.length) {
      includes.push({ id: line.origin[includes.length] ?? 0, active, neverMatch });
      neverMatch ||= !active;
    }
    try {
      if (line.key === 'host') {
        active = hostLineApplies(line, pass.hostArg, neverMatch);
        aliasKnown ||= active && line.args.some((p) => p.toLowerCase() === pass.alias.toLowerCase());
      } else if (line.key === 'match') {
        const result = evaluateMatch(line.rest, matchSubject(collected, pass, context));
        wantsFinalPass ||= result.wantsFinalPass;
        active = !neverMatch && result.matches;
      } else {
        applyOption(collected, optionLine(line), active, context.env);
      }
    } catch (error) {
      if (error instanceof ConfigSyntaxError) throw configLineError(line, error.message);
      throw error;
    }
  }
  return { wantsFinalPass, aliasKnown };
}

function hostLineApplies(line: ConfigLine, host: string, neverMatch: boolean): boolean {
  if (line.args.some((arg) => arg === '')) throw new ConfigSyntaxError('keyword host empty argument');
  return !neverMatch && hostPatternsMatch(line.args, host);
}

function optionLine(line: ConfigLine): OptionLine {
  return { key: line.key, args: line.args, rest: line.rest, fileSource: line.userConfig ? 2 : 0 };
}
