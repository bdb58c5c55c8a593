import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { GsyncError } from '../errors/GsyncError.js';
import { resolveBuiltin, type BuiltinContext, type Destination } from './builtinSettings.js';
import { tildeExpand } from './configTokens.js';
import type { ResolvedSettings, SettingsOverrides, SshSettings } from './settings.js';
import { findSshClient, runSshG, runSshGAhead } from './sshG.js';

export interface ResolveSettingsOptions {
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The ssh client whose `ssh -G` resolves the settings: a path, `null` for gsync's builtin
   * resolver, or undefined to use the `ssh` on PATH when there is one and $HOME is the passwd
   * home (ssh takes `~` from the passwd entry, not from $HOME).
   */
  readonly sshClient?: string | null;
  /** For the builtin: where `~` and %d point (default $HOME); ssh uses the passwd entry. */
  readonly home?: string;
  /** For the builtin: the system-wide config read after the user's when there is no -F (default /etc/ssh/ssh_config). */
  readonly systemConfigFile?: string | null;
}

/**
 * The effective ssh_config settings for `destination`, from OpenSSH itself (`ssh -G`) where an
 * ssh client is installed, else from the builtin resolver. `aliasKnown` comes from the builtin
 * walk, which is cheap; where the builtin cannot answer (a config ssh accepts and it refuses),
 * the alias counts as known: a DNS failure on a real alias must not read as an unknown alias.
 */
export function resolveSettings(destination: Destination, overrides: SettingsOverrides, options: ResolveSettingsOptions = {}): ResolvedSettings {
  const context = builtinContext(options);
  requireIdentityFiles(overrides.identityFiles ?? [], context.home);
  const sshClient = options.sshClient === undefined ? autoSshClient(context) : options.sshClient;
  if (sshClient === null || sshClient === undefined) return resolveBuiltin(destination, overrides, context);
  const settings = runSshG(destination, overrides, sshClient, context.env);
  const builtin = tryBuiltin(destination, overrides, context);
  return {
    settings: builtin ? withKnownHostsSplit(settings, builtin.settings) : settings,
    source: 'ssh -G',
    aliasKnown: builtin?.aliasKnown ?? true,
  };
}

/** Runs ahead what resolveSettings will ask `ssh -G` (sshG.ts: runSshGAhead), where it will ask it. */
export function resolveSettingsAhead(destination: Destination, overrides: SettingsOverrides, options: ResolveSettingsOptions = {}): Promise<void> {
  const context = builtinContext(options);
  const sshClient = options.sshClient === undefined ? autoSshClient(context) : options.sshClient;
  return sshClient ? runSshGAhead(destination, overrides, sshClient, context.env) : Promise.resolve();
}

/**
 * The ssh on PATH, unless $HOME is not the passwd entry's home: ssh would then read another
 * ~/.ssh/config than the one gsync expands `~` to (a test's HOME, `sudo -E`, a container
 * whose passwd home is `/`), so the builtin, which follows $HOME throughout, resolves instead.
 */
function autoSshClient(context: BuiltinContext): string | undefined {
  if (context.home !== userInfo().homedir) return undefined;
  return findSshClient(context.env);
}

function builtinContext(options: ResolveSettingsOptions): BuiltinContext {
  const env = options.env ?? process.env;
  return {
    env,
    home: options.home ?? env.HOME ?? homedir(),
    localUser: userInfo().username,
    systemConfigFile: options.systemConfigFile === undefined ? '/etc/ssh/ssh_config' : options.systemConfigFile,
  };
}

/** ssh only warns about a missing -i file and carries on without it; gsync says so and stops. */
function requireIdentityFiles(files: readonly string[], home: string): void {
  for (const file of files) {
    const path = file.startsWith('~/') || file === '~' ? tildeExpand(file, home) : file;
    if (!existsSync(path)) throw new GsyncError('usage', `identity file ${file} (given to -i) does not exist`, { hint: 'check the path given to -i' });
  }
}

/** The builtin's answer beside ssh's, or undefined where it cannot give one (ssh's answer stands). */
function tryBuiltin(destination: Destination, overrides: SettingsOverrides, context: BuiltinContext): ResolvedSettings | undefined {
  try {
    return resolveBuiltin(destination, overrides, context);
  } catch {
    return undefined;
  }
}

/**
 * `ssh -G` prints each known_hosts list on one line joined by spaces, so a path with a space
 * in it cannot be told apart from two paths. Where the builtin's list joins to the same line,
 * its split (which saw the quotes) is the right one.
 */
function withKnownHostsSplit(settings: SshSettings, builtin: SshSettings): SshSettings {
  const same = (a: readonly string[], b: readonly string[]): boolean => a.join(' ') === b.join(' ');
  return {
    ...settings,
    userKnownHostsFiles: same(settings.userKnownHostsFiles, builtin.userKnownHostsFiles) ? builtin.userKnownHostsFiles : settings.userKnownHostsFiles,
    globalKnownHostsFiles: same(settings.globalKnownHostsFiles, builtin.globalKnownHostsFiles) ? builtin.globalKnownHostsFiles : settings.globalKnownHostsFiles,
  };
}
