import type { Writable } from 'node:stream';
import { ExitCode } from '../errors/exitCodes.js';

type WriteCallback = (error?: Error | null) => void;

/**
 * Standard output that cannot be written (a full disk behind `> file`, a closed pipe) must not
 * crash a run halfway: what it would have shown is dropped and the run goes on. A closed pipe is
 * the reader's choice (`| head`): nothing more is said. Any other failure is said once, on
 * stderr, at exit, and a command that would have exited 0 exits 11: not all it was asked to show
 * was shown.
 *
 * The failure is kept from becoming the stream's 'error' event: oclif rethrows any but EPIPE
 * from its own listener, which would end the process with a stack trace.
 */
export function guardStdout(stream: NodeJS.WriteStream = process.stdout): void {
  let failure: NodeJS.ErrnoException | undefined;
  const swallow =
    (callback: WriteCallback): WriteCallback =>
    (error) => {
      if (error) failure ??= error;
      callback();
    };
  const raw = stream as unknown as Writable;
  const write = raw._write.bind(raw);
  raw._write = (chunk, encoding, callback): void => write(chunk, encoding, swallow(callback));
  if (raw._writev) {
    const writev = raw._writev.bind(raw);
    raw._writev = (chunks, callback): void => writev(chunks, swallow(callback));
  }
  const accept = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]): boolean => {
    if (!failure) return accept(...args);
    // Dropped: a caller waiting for its callback is not left waiting.
    const callback = args.find((arg): arg is () => void => typeof arg === 'function');
    if (callback) process.nextTick(callback);
    return true;
  }) as typeof stream.write;
  process.on('exit', () => {
    if (!failure || failure.code === 'EPIPE') return;
    try {
      process.stderr.write(`gsync: cannot write to standard output: ${failure.code ?? failure.message}\n`);
    } catch {
      // stderr is gone too: the exit code still says it.
    }
    if (!process.exitCode) process.exitCode = ExitCode.localIo;
  });
}
