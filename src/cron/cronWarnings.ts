import { lookup } from 'node:dns/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadKeyFile } from '../ssh/auth.js';
import { configFileOf, type ConnectSpec } from '../ssh/spec.js';

/** Something that will make the cron job fail, said at `add` time; the line is installed anyway. */
export interface CronWarning {
  readonly message: string;
  readonly hint: string;
}

/**
 * The environment cron gives a job (Debian's cron: HOME, LOGNAME, SHELL and PATH, nothing else):
 * what the job's ssh settings are resolved under, so an agent reachable only through this
 * session's SSH_AUTH_SOCK does not count.
 */
export function cronEnvironment(home: string, user: string): NodeJS.ProcessEnv {
  return { HOME: home, LOGNAME: user, SHELL: '/bin/sh', PATH: '/usr/bin:/bin' };
}

/**
 * Whether the job can log in by itself. Under cron nobody can type a passphrase or a password
 * (no terminal, no SSH_ASKPASS) and SSH_AUTH_SOCK is not set, so the login has to come from an
 * agent socket the config names by path (IdentityAgent) or a key file without a passphrase.
 * `spec` must be resolved under cronEnvironment().
 */
export function loginWarning(spec: ConnectSpec): CronWarning | undefined {
  if (spec.agentSocket !== undefined && isSocket(spec.agentSocket)) return undefined;
  const keys = spec.pubkeyAuthentication ? spec.identityFiles.flatMap((file) => loadKeyFile(file) ?? []) : [];
  const usable = keys.filter((key) => key.refused === undefined);
  if (usable.some((key) => !key.encrypted)) return undefined;
  const fix = `give the job a key without a passphrase (e.g. ssh-keygen -t ed25519 -N '' -f ~/.ssh/gsync_cron, authorize it on ${spec.alias}, and name it with IdentityFile for this host), or set IdentityAgent to an agent socket at a fixed path`;
  const encrypted = usable.find((key) => key.encrypted);
  if (encrypted) {
    return {
      message: `the key ${encrypted.file} needs a passphrase, and a cron job has no terminal to ask it on and no ssh-agent (cron does not pass SSH_AUTH_SOCK on): each run will fail to log in to ${spec.alias} (exit 5)`,
      hint: fix,
    };
  }
  return {
    message: `gsync found no key file it can use for ${spec.alias} (${spec.pubkeyAuthentication ? triedFiles(spec.identityFiles) : 'PubkeyAuthentication is off'}), and a cron job has no terminal for a password and no ssh-agent: each run will likely fail to log in (exit 5)`,
    hint: fix,
  };
}

/**
 * An alias no Host line names, that is no host name either (a typo): every run would fail to
 * connect. A plain host name (user@box.example.org) resolves, and is no cause for a warning.
 */
export async function aliasWarning(spec: ConnectSpec, resolves: (host: string) => Promise<boolean> = hostResolves): Promise<CronWarning | undefined> {
  if (spec.aliasKnown || spec.route.kind !== 'direct' || (await resolves(spec.host))) return undefined;
  return {
    message: `no Host entry names '${spec.alias}' in ${configFileOf(spec)}, and no host of that name resolves: each run will fail to connect (exit 1)`,
    hint: `check the spelling, or add a Host block for ${spec.alias} to ${configFileOf(spec)}`,
  };
}

async function hostResolves(host: string): Promise<boolean> {
  return lookup(host).then(
    () => true,
    () => false,
  );
}

/**
 * Without -F, the job reads ~/.ssh/config from the HOME cron sets, the home directory in the
 * password database: a different file when this shell's $HOME points elsewhere.
 */
export function homeWarning(sshConfigGiven: boolean, shellHome: string | undefined, passwdHome: string): CronWarning | undefined {
  if (sshConfigGiven || shellHome === undefined || shellHome === passwdHome) return undefined;
  return {
    message: `cron runs the job with HOME=${passwdHome}, not ${shellHome}: it will read ${join(passwdHome, '.ssh', 'config')}, not ${join(shellHome, '.ssh', 'config')}`,
    hint: `to use ${join(shellHome, '.ssh', 'config')}, add again with -F ${join(shellHome, '.ssh', 'config')}`,
  };
}

/** The files looked for, the first few by name: OpenSSH's defaults alone are seven. */
function triedFiles(files: readonly string[]): string {
  if (files.length === 0) return 'no IdentityFile is set';
  const named = files.slice(0, 3).join(', ');
  return `tried ${named}${files.length > 3 ? ` and ${files.length - 3} more` : ''}`;
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}
