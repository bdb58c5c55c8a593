import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { Duplex } from 'node:stream';
import { printable } from '../core/printable.js';
import { GsyncError } from '../errors/GsyncError.js';
import { socketError } from './connectErrors.js';
import { configFileOf, type ConnectSpec } from './spec.js';

/**
 * The software version in our identification line (RFC 4253 4.2), ssh2 being told to send the
 * same: a connection opened ahead (openTcpAhead) sends the line itself.
 */
export const CLIENT_SOFTWARE = 'gsync_ssh2js';

/** The byte stream an SSH handshake runs over, whatever made it. */
export interface Transport {
  readonly stream: Duplex;
  /** The identification line already sent on the stream, which the SSH client must not send again. */
  readonly identSent?: Buffer;
  /** Why the stream failed, when the transport knows better than ssh2 (a proxy command's exit and stderr). */
  failure(): Promise<GsyncError | undefined>;
  close(): void;
}

/**
 * A TCP connection opened before the SSH client's code has loaded (headStart.ts), which sends our
 * identification line at once: the server's key exchange waits for that line, so its first
 * packets are there when the client starts. Opened ahead without it, the client sat a round trip
 * idle after the server's line; with it, a first pull of 100 files over a 20 ms round trip took
 * 470 ms instead of 492, over a 100 ms one 1.37 s instead of 1.41.
 */
export async function openTcpAhead(spec: ConnectSpec): Promise<Transport> {
  const transport = await openTcp(spec);
  const identSent = Buffer.from(`SSH-2.0-${CLIENT_SOFTWARE}\r\n`, 'latin1');
  transport.stream.write(identSent);
  return { ...transport, identSent };
}

/** A TCP connection to host:port, bounded by ConnectTimeout. */
export function openTcp(spec: ConnectSpec): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: spec.host, port: spec.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new GsyncError('timeout', `connecting to ${spec.alias} (${spec.host}:${spec.port}) timed out after ${spec.connectTimeoutMs / 1000} s`, {
          hint: `check that the host is up and reachable; ConnectTimeout in ${configFileOf(spec)} sets the limit`,
        }),
      );
    }, spec.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      // ssh2 leaves Nagle on; bulk SFTP runs several times slower with it.
      socket.setNoDelay(true);
      resolve({ stream: socket, failure: () => Promise.resolve(undefined), close: () => socket.destroy() });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(socketError(spec, error));
    });
  });
}

/** Bytes of a proxy command's stderr kept (the end) for the error message. */
const STDERR_KEPT = 4096;

/**
 * ProxyCommand, run as ssh runs it: `$SHELL -c "exec <command>"`, its stdin and stdout the
 * transport. In its own process group, so closing kills whatever it started; its stderr's
 * tail explains a failure; a command that exits is the link ending.
 */
export function openProxyCommand(spec: ConnectSpec, command: string): Transport {
  const shell = process.env.SHELL || '/bin/sh';
  const child = spawn(shell, ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  let closedByUs = false;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEPT);
  });
  // The stream often breaks (EPIPE, EOF) a moment before the exit status is known.
  const exited = new Promise<string>((resolve) => {
    child.once('close', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit ${code}`));
    child.once('error', (error) => resolve(`could not start: ${error.message}`));
  });
  const stream = new ChildStream(child);
  return {
    stream,
    failure: async () => {
      const exit = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000).unref())]);
      if (closedByUs || exit === undefined) return undefined;
      const said = lastLines(stderr);
      // Only the program's name: the rest of the line may hold a secret (sshpass -p ...).
      const program = command.trim().split(/\s+/)[0] ?? '';
      return new GsyncError('proxy', `the ProxyCommand for ${spec.alias} ended (${exit})${said ? `: ${said}` : ''}`, {
        hint: `check that the ProxyCommand (${printable(program, 100)} ...) works on its own`,
      });
    },
    close: () => {
      closedByUs = true;
      stream.destroy();
    },
  };
}

/** A child's stdout and stdin as one Duplex, with backpressure both ways. */
class ChildStream extends Duplex {
  readonly #child: ChildProcessWithoutNullStreams;

  constructor(child: ChildProcessWithoutNullStreams) {
    // Not half-open: a command whose output ended (it exited) ends the transport, as a TCP peer's
    // FIN does a socket. Half-open, ssh2 waited for a close that never came, until the stall timeout.
    super({ allowHalfOpen: false });
    this.#child = child;
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stdout.once('end', () => this.push(null));
    child.stdin.on('error', (error) => this.destroy(error));
    child.once('error', (error) => this.destroy(error));
  }

  override _read(): void {
    this.#child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#child.stdin.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#child.stdin.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const child = this.#child;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    // stderr is left to drain: its last lines explain the failure.
    child.stdin.destroy();
    child.stdout.destroy();
    callback(error);
  }
}

/** The end of a command's stderr, as one escaped line: what it said last is what matters. */
function lastLines(text: string): string {
  // Escaped where it is printed (cli/failure.ts); bounded here.
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(-3).join(' / ').slice(-400);
}
