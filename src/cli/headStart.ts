import { readFileSync } from 'node:fs';
import type { FirstConnection, RouteAhead } from '../pipeline/firstConnection.js';
import type { PullRequest } from '../pipeline/runPull.js';
import type { SettingsOverrides } from '../ssh/settings.js';
import { onStopSignal } from './signals.js';

/**
 * A pull's login, started before oclif starts. oclif reading its configuration, finding the
 * command and parsing the line take ~25 ms of the main thread; the login is ten or so round
 * trips and the server's own work, so the two overlap. The command line is read here only as far
 * as the connection needs (the source, ssh's flags, --timeout), with the flag table oclif itself
 * uses (oclif.manifest.json); anything unusual and there is no head start. The command adopts
 * the connection only if what oclif parsed names the same one; otherwise it is closed unused.
 * Until adopted it asks nobody anything: a prompt (a passphrase, an unknown host key) waits for
 * the command to confirm it.
 */

/** What reading a command line needs to know of a flag. */
interface FlagShape {
  readonly name: string;
  readonly type: 'boolean' | 'option';
  readonly multiple: boolean;
}

/** What the connection is made from: oclif's parse and the head start's must agree on it. */
export interface ConnectionInputs {
  readonly source: string;
  readonly ssh: SettingsOverrides;
  readonly timeoutSeconds?: number;
}

interface Pending {
  readonly key: string;
  readonly connecting: Promise<FirstConnection>;
  readonly stop: AbortController;
  confirm(): void;
  refuse(): void;
  /** Ctrl+C (or SIGTERM, SIGHUP) before the command took over: the connection stopped; the command must hear of it. */
  interrupted(): NodeJS.Signals | undefined;
  /** No longer listens for signals: the command does from now on. */
  unlisten(): void;
}

let pending: Pending | undefined;

/** Starts the login of `gsync pull <argv...>`, if argv is one this can read; any other command line is left alone. */
export async function startHeadStart(argv: readonly string[], manifestPath: string | URL): Promise<void> {
  const flags = argv[0] === 'pull' ? pullFlags(manifestPath) : undefined;
  const inputs = flags && readPullLine(argv, flags);
  if (!inputs) return;
  // Until the command listens, Ctrl+C stops the login (exit 20 once the command adopts it), as it
  // would have stopped the command's: from before the connection is opened.
  const stop = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted ??= signal;
    stop.abort();
  };
  const unlisten = onStopSignal(onSignal);
  const [{ parseTarget }, { resolveConnectSpec, resolveConnectSpecAhead }, { openTcpAhead }] = await Promise.all([
    import('../core/target.js'),
    import('../ssh/config.js'),
    import('../ssh/transport.js'),
  ]);
  // The `ssh -G` the login needs runs while the login's code (ssh2) loads, and so does the TCP
  // connection once the route is known: the server's fork and banner (~35 ms here) and a long
  // link's round trip pass meanwhile.
  // A source that is no target rejects it: openFirstConnection says so, having parsed it first.
  const route = (async (): Promise<RouteAhead> => {
    const target = parseTarget(inputs.source);
    await resolveConnectSpecAhead(target, inputs.ssh);
    const spec = resolveConnectSpec(target, inputs.ssh);
    if (spec.route.kind !== 'direct' || stop.signal.aborted) return { spec };
    const openedAhead = openTcpAhead(spec);
    // Its failure is the login's to report.
    openedAhead.catch(() => undefined);
    return { spec, openedAhead };
  })();
  route.catch(() => undefined);
  const { openFirstConnection } = await import('../pipeline/firstConnection.js');
  let confirm = (): void => undefined;
  let refuse = (): void => undefined;
  const confirmed = new Promise<void>((resolve, reject) => {
    confirm = resolve;
    refuse = () => reject(new Error('the connection started ahead was not this run’s'));
  });
  confirmed.catch(() => undefined);
  const connecting = openFirstConnection({ ...inputs, signal: stop.signal }, confirmed, route);
  // Its failure is thrown where the command awaits it, if it adopts it.
  connecting.catch(() => undefined);
  pending = {
    key: keyOf(inputs.source, inputs.ssh, inputs.timeoutSeconds),
    connecting,
    stop,
    confirm,
    refuse,
    interrupted: () => interrupted,
    unlisten,
  };
}

/**
 * The connection started ahead, if it is the one `request` asks for: from now on Ctrl+C
 * (`request.signal`) stops it, and it may prompt. Any other is closed. Taken once; the command
 * listens for signals before it takes it.
 */
export function takeHeadStart(request: PullRequest): Promise<FirstConnection> | undefined {
  const started = pending;
  pending = undefined;
  if (!started) return undefined;
  started.unlisten();
  // A signal that came before the command listened is the command's to act on, whether or not it stopped the login.
  const signal = started.interrupted();
  if (signal) process.kill(process.pid, signal);
  if (request.env !== undefined || keyOf(request.source, request.ssh ?? {}, request.timeoutSeconds) !== started.key) {
    discard(started);
    return undefined;
  }
  request.signal?.addEventListener('abort', () => started.stop.abort(), { once: true });
  if (request.signal?.aborted) started.stop.abort();
  started.confirm();
  return started.connecting;
}

/** Closes a connection started ahead and never taken (the command failed first, or was another). */
export function dropHeadStart(): void {
  const started = pending;
  pending = undefined;
  if (!started) return;
  started.unlisten();
  discard(started);
}

function discard(started: Pending): void {
  started.refuse();
  started.stop.abort();
  void started.connecting.then(
    (connection) => connection.session.close(),
    () => undefined,
  );
}

/** Every field of SettingsOverrides, so that one added there cannot be left out of the key (the compiler says so). */
const OVERRIDES: { readonly [K in keyof Required<SettingsOverrides>]: K } = {
  configFile: 'configFile',
  identityFiles: 'identityFiles',
  port: 'port',
  user: 'user',
  options: 'options',
};

/** One string per connection asked for: the same inputs give the same key, whatever order oclif built them in. */
function keyOf(source: string, ssh: SettingsOverrides, timeoutSeconds: number | undefined): string {
  return JSON.stringify([source, timeoutSeconds ?? null, ...Object.values(OVERRIDES).map((field) => ssh[field] ?? null)]);
}

/** ssh's own flags as the pull command takes them, passed to the resolver as ssh would apply them. */
export function sshOverrides(flags: {
  'ssh-config'?: string | undefined;
  identity?: readonly string[] | undefined;
  port?: number | undefined;
  'login-name'?: string | undefined;
  option?: readonly string[] | undefined;
}): SettingsOverrides {
  return {
    ...(flags['ssh-config'] === undefined ? {} : { configFile: flags['ssh-config'] }),
    ...(flags.identity === undefined ? {} : { identityFiles: flags.identity }),
    ...(flags.port === undefined ? {} : { port: flags.port }),
    ...(flags['login-name'] === undefined ? {} : { user: flags['login-name'] }),
    ...(flags.option === undefined ? {} : { options: flags.option }),
  };
}

/** The pull command's flags from oclif's manifest; undefined without one (oclif then finds them itself, and so no head start). */
function pullFlags(manifestPath: string | URL): ReadonlyMap<string, FlagShape> | undefined {
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { commands?: { pull?: { flags?: Record<string, FlagDefinition> } } };
    const flags = manifest.commands?.pull?.flags;
    return flags && flagTable(flags);
  } catch {
    return undefined;
  }
}

/** A flag as oclif defines it (and its manifest lists it), keyed by its name. */
export interface FlagDefinition {
  readonly char?: string | undefined;
  readonly type: 'boolean' | 'option';
  readonly multiple?: boolean | undefined;
}

/** Flags by the tokens that name them: `--name` and `-c`. */
export function flagTable(flags: Readonly<Record<string, FlagDefinition>>): ReadonlyMap<string, FlagShape> {
  const byToken = new Map<string, FlagShape>();
  for (const [name, flag] of Object.entries(flags)) {
    const shape = { name, type: flag.type, multiple: flag.multiple === true };
    byToken.set(`--${name}`, shape);
    if (flag.char) byToken.set(`-${flag.char}`, shape);
  }
  return byToken;
}

const NUMBER = /^\d{1,9}$/;

/**
 * The connection's inputs from `pull` and its arguments, or undefined for anything this does not
 * read as oclif would: another command, help, `--`, bundled short flags, an unknown flag, a value
 * that looks like a flag, more than two arguments.
 */
export function readPullLine(argv: readonly string[], flags: ReadonlyMap<string, FlagShape>): ConnectionInputs | undefined {
  if (argv[0] !== 'pull') return undefined;
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i] as string;
    if (!token.startsWith('-')) {
      positional.push(token);
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const flag = flags.get(eq > 0 ? token.slice(0, eq) : token);
    if (!flag || flag.name === 'help') return undefined;
    if (flag.type === 'boolean') {
      if (eq > 0) return undefined;
      continue;
    }
    const value = eq > 0 ? token.slice(eq + 1) : argv[++i];
    if (value === undefined || value.startsWith('-')) return undefined;
    const seen = values.get(flag.name) ?? [];
    if (seen.length > 0 && !flag.multiple) return undefined;
    values.set(flag.name, [...seen, value]);
  }
  const [source] = positional;
  if (source === undefined || positional.length > 2) return undefined;
  const one = (name: string): string | undefined => values.get(name)?.[0];
  const port = one('port');
  const timeout = one('timeout');
  if ((port !== undefined && !NUMBER.test(port)) || (timeout !== undefined && !NUMBER.test(timeout))) return undefined;
  const ssh = sshOverrides({
    'ssh-config': one('ssh-config'),
    identity: values.get('identity'),
    port: port === undefined ? undefined : Number(port),
    'login-name': one('login-name'),
    option: values.get('option'),
  });
  return { source, ssh, ...(timeout === undefined ? {} : { timeoutSeconds: Number(timeout) }) };
}
