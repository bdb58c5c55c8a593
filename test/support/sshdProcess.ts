import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { pickPort as defaultPickPort } from './pickPort.js';
import { killTrees, killTreesAndWait } from './processTree.js';
import { SSHD_PATH } from './sshdPath.js';
import { waitForBanner } from './waitForBanner.js';

export interface LaunchOptions {
  configPath: string;
  /** sshd's stderr (its log, given `-e`) is appended here. */
  logPath: string;
  renderConfig(port: number): string;
  env: NodeJS.ProcessEnv;
  /** Injectable so a test can hand it a taken port first. */
  pickPort?: () => number;
  /** Ports tried before giving up (default 20). */
  attempts?: number;
  /** Per attempt: from spawn to banner (default 10 s). */
  readyTimeoutMs?: number;
}

/** A running `sshd -D` listener. */
export interface SshdProcess {
  readonly port: number;
  readonly pid: number;
  /** Ports that were tried and found taken before `port` worked. */
  readonly portsTaken: readonly number[];
  /** SIGKILLs the listener and every connection's child (and their sessions); resolves once all have exited. */
  stop(): Promise<void>;
}

const BIND_FAILURE = /Address already in use|Cannot bind any address/;

/**
 * Starts sshd on a free port. sshd cannot bind port 0, so it picks one, and when a parallel test
 * file got there first (sshd logs "Address already in use" then "fatal: Cannot bind any address"
 * and exits) tries another. Ready means both: our sshd logged "Server listening on 127.0.0.1 port
 * N" (so the port is ours, not a neighbour's), and a TCP client gets an SSH-2.0 banner.
 */
export async function launchSshd(options: LaunchOptions): Promise<SshdProcess> {
  const portsTaken: number[] = [];
  const attempts = options.attempts ?? 20;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = (options.pickPort ?? defaultPickPort)();
    const started = await startOnce(port, options, portsTaken);
    if (started !== undefined) return started;
    portsTaken.push(port);
  }
  throw new Error(`sshd found no free port in ${attempts} attempts (tried ${portsTaken.join(', ')})`);
}

/** Resolves undefined when the port was taken; throws on any other failure. */
async function startOnce(port: number, options: LaunchOptions, portsTaken: number[]): Promise<SshdProcess | undefined> {
  await writeFile(options.configPath, options.renderConfig(port));
  const log = createWriteStream(options.logPath, { flags: 'a' });
  const child = spawn(SSHD_PATH, ['-D', '-e', '-f', options.configPath], {
    env: options.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Closed stdio means the listener and every child that inherited its stderr are gone.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('exit', () => {
    if (child.pid !== undefined) liveListeners.delete(child.pid);
  });
  let text = '';
  const listening = `Server listening on 127.0.0.1 port ${port}.`;
  const outcome = await new Promise<'listening' | 'exited' | 'timeout' | Error>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), options.readyTimeoutMs ?? 10_000);
    child.stderr.on('data', (chunk: Buffer) => {
      log.write(chunk);
      // Kept whole until ready (it is a few lines), for the error message and the match.
      if (text.length < 65_536) text += chunk.toString();
      if (text.includes(listening)) {
        clearTimeout(timer);
        resolve('listening');
      }
    });
    // 'close', not 'exit': 'exit' can come before the last stderr chunk ("Address already in
    // use") has been read.
    child.once('close', () => {
      clearTimeout(timer);
      resolve('exited');
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve(error);
    });
  });
  const pid = child.pid;
  const kill = async (): Promise<void> => {
    // Only while the listener is unreaped: a dead one's pid may already belong to someone else.
    if (pid !== undefined && child.exitCode === null && child.signalCode === null) await killTreesAndWait([pid]);
    await closed;
    await new Promise<void>((resolve) => log.end(resolve));
  };
  if (outcome instanceof Error) {
    await new Promise<void>((resolve) => log.end(resolve));
    throw new Error(`could not run ${SSHD_PATH}: ${outcome.message}`, { cause: outcome });
  }
  if (outcome === 'exited') {
    await kill();
    if (BIND_FAILURE.test(text)) return undefined;
    throw new Error(`sshd exited at startup (code ${child.exitCode}, signal ${child.signalCode}):\n${text}`);
  }
  if (pid === undefined) throw new Error('sshd has no pid');
  if (child.exitCode === null && child.signalCode === null) liveListeners.add(pid);
  ensureExitHook();
  try {
    if (outcome === 'timeout') throw new Error(`sshd did not log "${listening}" within the timeout:\n${text}`);
    await waitForBanner(port, options.readyTimeoutMs ?? 10_000);
  } catch (error) {
    await kill();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    port,
    pid,
    portsTaken: [...portsTaken],
    stop: () => (stopping ??= kill()),
  };
}

/**
 * Listeners not yet stopped. If a worker exits without calling stop() (a forgotten afterAll, an
 * uncaught error), this kills their trees synchronously on the way out; globalSetup's teardown
 * catches those of a worker killed by a signal.
 */
const liveListeners = new Set<number>();
let hooked = false;

function ensureExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => killTrees([...liveListeners]));
}
