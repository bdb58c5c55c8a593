import { batchedLines } from './batchedLines.js';
import { jsonRenderer } from './json.js';
import type { Level } from './lines.js';
import { openLogFile, type LogFile } from './logFile.js';
import { plainRenderer } from './plain.js';
import { fanOut, type Renderer } from './renderer.js';
import { ttyRenderer } from './tty.js';

export interface OutputOptions {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  /** --log-file: opened (or refused, exit 11) before anything else. */
  readonly logFile: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

export interface Output extends Renderer {
  close(): void;
}

/**
 * Where a pull's events go: NDJSON with --json; else a live line on a terminal (not TERM=dumb),
 * plain lines elsewhere; and, with --log-file, plain lines with timestamps in that file too.
 */
export function openOutput(options: OutputOptions): Output {
  const log: LogFile | undefined =
    options.logFile === undefined
      ? undefined
      : openLogFile(options.logFile, { level: options.verbose ? 'verbose' : 'normal', warn: (line) => options.stderr.write(`${line}\n`) });
  const { renderer: main, flush } = screenRenderer(options);
  const all = fanOut(log ? [main, log] : [main]);
  return {
    ...all,
    close: () => {
      flush();
      log?.close();
    },
  };
}

function screenRenderer(options: OutputOptions): { renderer: Renderer; flush: () => void } {
  const { stdout, stderr } = options;
  const level: Level = options.quiet ? 'quiet' : options.verbose ? 'verbose' : 'normal';
  if (!options.json && stdout.isTTY && options.env.TERM !== 'dumb') {
    const err = (line: string): void => void stderr.write(`${line}\n`);
    return { renderer: ttyRenderer({ level, write: (text) => void stdout.write(text), err, columns: () => stdout.columns }), flush: () => undefined };
  }
  // A line per event, or per file: written in batches.
  const out = batchedLines((text) => void stdout.write(text));
  if (options.json) return { renderer: jsonRenderer({ write: (line) => out.add(line) }), flush: out.flush };
  const err = (line: string): void => {
    out.flush();
    stderr.write(`${line}\n`);
  };
  return { renderer: plainRenderer({ level, out: (line) => out.add(`${line}\n`), err }), flush: out.flush };
}
