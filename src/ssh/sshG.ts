import { accessSync, constants, statSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { printable } from '../core/printable.js';
import { STOP_SIGNALS } from '../core/stopSignals.js';
import { GsyncError } from '../errors/GsyncError.js';
import type { Destination } from './builtinSettings.js';
import type { SettingsOverrides, SshSettings } from './settings.js';

/** Long enough for a slow `Match exec`; a hung one must not hang gsync. */
const SSH_G_TIMEOUT_MS = 20_000;

/** The ssh client gsync asks: the first `ssh` on PATH, else /usr/bin/ssh; undefined when there is none. */
export function findSshClient(env: NodeJS.ProcessEnv): string | undefined {
  const dirs = (env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  return [...dirs.map((dir) => join(dir, 'ssh')), '/usr/bin/ssh'].find(isExecutableFile);
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** ssh's flags for the overrides, in the order the builtin applies them: -i, -p, -l, then -o. */
function sshGArguments(destination: Destination, overrides: SettingsOverrides): string[] {
  const args = ['-G'];
  if (overrides.configFile !== undefined) args.push('-F', overrides.configFile);
  for (const file of overrides.identityFiles ?? []) args.push('-i', file);
  if (overrides.port !== undefined) args.push('-p', String(overrides.port));
  const user = destination.user ?? overrides.user;
  if (user !== undefined) args.push('-l', user);
  for (const option of overrides.options ?? []) args.push('-o', option);
  return [...args, '--', destination.host];
}

/** Runs `ssh -G` for the destination and reads its output as SshSettings. */
export function runSshG(destination: Destination, overrides: SettingsOverrides, sshClient: string, env: NodeJS.ProcessEnv): SshSettings {
  const output = spawnSshG(sshClient, sshGArguments(destination, overrides), destination.host, env, overrides.configFile);
  return parseSshG(output, sshDefaults(sshClient, env));
}

/**
 * `ssh -G` outputs run ahead of need (runSshGAhead), by client and arguments; each is taken
 * once. Only successes are kept: a failure is met again, and reported, by the run that needs it.
 */
const ranAhead = new Map<string, string>();

function aheadKey(sshClient: string, args: readonly string[]): string {
  return [sshClient, ...args].join('\0');
}

/**
 * Starts the `ssh -G` runs that resolving `destination` will make (the defaults' too, the first
 * time), without waiting on them: they take ~20 ms of another process, while this thread loads
 * code. Resolves once they are done; never rejects.
 */
export async function runSshGAhead(destination: Destination, overrides: SettingsOverrides, sshClient: string, env: NodeJS.ProcessEnv): Promise<void> {
  const runs = [sshGArguments(destination, overrides)];
  if (!defaultsByClient.has(sshClient)) runs.push(DEFAULTS_ARGUMENTS);
  await Promise.all(
    runs.map(
      (args) =>
        new Promise<void>((resolve) => {
          const child = spawn(sshClient, args, { stdio: ['ignore', 'pipe', 'ignore'], env, timeout: SSH_G_TIMEOUT_MS });
          const chunks: Buffer[] = [];
          child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
          child.once('error', () => resolve());
          child.once('close', (code) => {
            if (code === 0) ranAhead.set(aheadKey(sshClient, args), Buffer.concat(chunks).toString('utf8'));
            resolve();
          });
        }),
    ),
  );
}

const DEFAULTS_ARGUMENTS = ['-G', '-F', '/dev/null', '--', 'gsync-defaults'];

/** `host` is all of the arguments an error shows: an -o value may hold a secret (`ProxyCommand sshpass -p …`). */
function spawnSshG(sshClient: string, args: readonly string[], host: string, env: NodeJS.ProcessEnv, configFile: string | undefined): string {
  const key = aheadKey(sshClient, args);
  const ahead = ranAhead.get(key);
  if (ahead !== undefined) {
    ranAhead.delete(key);
    return ahead;
  }
  const result = spawnSync(sshClient, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env, timeout: SSH_G_TIMEOUT_MS });
  const shown = `${sshClient} -G ${host}`;
  if (result.error) {
    const timedOut = (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    throw new GsyncError(timedOut ? 'timeout' : 'usage', `${shown} ${timedOut ? 'did not finish' : `failed: ${result.error.message}`}`, {
      hint: timedOut ? 'a Match exec in the ssh config may be waiting for something' : 'check the ssh client, or run gsync where ssh works',
      cause: result.error,
    });
  }
  // Ctrl+C reaches ssh too (one process group): the user stopped the run, the config is fine.
  if (result.signal && STOP_SIGNALS.includes(result.signal)) throw new GsyncError('interrupted', `interrupted while ${shown} read the ssh config`);
  if (result.status !== 0) {
    const said = firstLines(result.stderr, 4);
    throw new GsyncError('usage', `ssh refused the config: ${said || `${shown} exited with ${result.status ?? result.signal}`}`, {
      hint: `fix the line ssh names in ${configFile ?? '~/.ssh/config (or /etc/ssh/ssh_config)'}; \`${shown}\` (with the same -F and -o) shows the same`,
    });
  }
  return result.stdout;
}

/** A few lines of ssh's complaint, with control characters escaped so they cannot rewrite the terminal. */
function firstLines(text: string, count: number): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('Pseudo-terminal'));
  return printable(lines.slice(0, count).join('; '));
}

/** OpenSSH's default algorithm lists, which `ssh -G` prints in full when nothing is configured. */
interface AlgorithmDefaults {
  readonly ciphers: string;
  readonly kexalgorithms: string;
  readonly hostkeyalgorithms: string;
}

const defaultsByClient = new Map<string, AlgorithmDefaults>();

/** Learnt once per client from `ssh -G -F /dev/null`: no config, so every list is the built-in default. */
function sshDefaults(sshClient: string, env: NodeJS.ProcessEnv): AlgorithmDefaults {
  let found = defaultsByClient.get(sshClient);
  if (!found) {
    const lines = outputLines(spawnSshG(sshClient, DEFAULTS_ARGUMENTS, 'gsync-defaults', env, '/dev/null'));
    found = { ciphers: required(lines, 'ciphers'), kexalgorithms: required(lines, 'kexalgorithms'), hostkeyalgorithms: required(lines, 'hostkeyalgorithms') };
    defaultsByClient.set(sshClient, found);
  }
  return found;
}

/** `ssh -G` output as keyword → values (identityfile and certificatefile repeat). */
function outputLines(output: string): Map<string, string[]> {
  const lines = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const key = line.slice(0, space).toLowerCase();
    lines.set(key, [...(lines.get(key) ?? []), line.slice(space + 1)]);
  }
  return lines;
}

function required(lines: Map<string, string[]>, key: string): string {
  const value = lines.get(key)?.[0];
  if (value === undefined) {
    throw new GsyncError('usage', `ssh -G printed no "${key}" line`, { hint: 'gsync reads OpenSSH’s ssh -G output; is this ssh OpenSSH 8 or later?' });
  }
  return value;
}

/** Reads `ssh -G` output; lists equal to OpenSSH's defaults are reported as undefined. */
function parseSshG(output: string, defaults: AlgorithmDefaults): SshSettings {
  const lines = outputLines(output);
  const get = (key: string): string | undefined => lines.get(key)?.[0];
  const need = (key: string): string => required(lines, key);
  const flag = (key: string): boolean => !['no', 'false'].includes(need(key));
  const orNone = (key: string): string | undefined => (get(key) === undefined || get(key) === 'none' ? undefined : get(key));
  const list = (key: 'ciphers' | 'kexalgorithms' | 'hostkeyalgorithms'): string[] | undefined => (need(key) === defaults[key] ? undefined : need(key).split(','));
  const files = (key: string): string[] => (need(key) === 'none' ? [] : need(key).split(' '));
  const connectTimeout = orNone('connecttimeout');
  return {
    alias: need('host'),
    hostname: need('hostname'),
    port: Number(need('port')),
    user: need('user'),
    identityFiles: lines.get('identityfile') ?? [],
    identitiesOnly: flag('identitiesonly'),
    identityAgent: get('identityagent'),
    certificateFiles: lines.get('certificatefile') ?? [],
    proxyJump: orNone('proxyjump'),
    proxyCommand: orNone('proxycommand'),
    connectTimeout: connectTimeout === undefined ? undefined : Number(connectTimeout),
    serverAliveInterval: Number(need('serveraliveinterval')),
    serverAliveCountMax: Number(need('serveralivecountmax')),
    strictHostKeyChecking: strictness(need('stricthostkeychecking')),
    userKnownHostsFiles: files('userknownhostsfile'),
    globalKnownHostsFiles: files('globalknownhostsfile'),
    hostKeyAlias: get('hostkeyalias'),
    hashKnownHosts: flag('hashknownhosts'),
    batchMode: flag('batchmode'),
    pubkeyAuthentication: flag('pubkeyauthentication'),
    passwordAuthentication: flag('passwordauthentication'),
    kbdInteractiveAuthentication: flag('kbdinteractiveauthentication'),
    ciphers: list('ciphers'),
    kexAlgorithms: list('kexalgorithms'),
    hostKeyAlgorithms: list('hostkeyalgorithms'),
  };
}

/** ssh -G prints StrictHostKeyChecking as true / false / ask / accept-new. */
function strictness(printed: string): SshSettings['strictHostKeyChecking'] {
  switch (printed) {
    case 'true':
    case 'yes':
      return 'yes';
    case 'false':
    case 'no':
      return 'no';
    case 'accept-new':
      return 'accept-new';
    default:
      return 'ask';
  }
}
