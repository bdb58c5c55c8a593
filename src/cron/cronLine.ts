import { createHash } from 'node:crypto';
import { GsyncError } from '../errors/GsyncError.js';

/** Everything a gsync crontab line says; paths are absolute, so the line means the same under cron. */
export interface CronJob {
  readonly id: string;
  /** Five fields, single-spaced. */
  readonly schedule: string;
  /** `<alias>:<remote-path>` as given. */
  readonly source: string;
  readonly destination: string;
  /** process.execPath at `add` time. */
  readonly node: string;
  /** bin/run.js of the gsync that added the line. */
  readonly gsync: string;
  /** `-F`, when the user gave one; otherwise cron's HOME leads ssh and gsync to ~/.ssh/config. */
  readonly sshConfig: string | undefined;
  readonly logFile: string;
}

/** What `gsync cron list` shows of a line it finds. */
export interface ListedJob {
  readonly id: string;
  readonly schedule: string;
  /** Undefined when the line was edited by hand past reading. */
  readonly source: string | undefined;
  readonly destination: string | undefined;
}

/** Debian's cron refuses a line whose command (everything after the five fields) is longer than this. */
export const MAX_COMMAND_LENGTH = 998;

/** The trailing `# gsync:<id>`: a shell comment to /bin/sh, the job's name to gsync. */
const MARKER = /\s#\s*gsync:([0-9a-f]{8})\s*$/;

/**
 * A job's id: 8 hex digits of SHA-256 over the source and the absolute destination, so adding
 * the same pair again finds the same line.
 */
export function jobId(source: string, destination: string): string {
  return createHash('sha256').update(`${normalizeSource(source)}\n${destination}`).digest('hex').slice(0, 8);
}

/** The source without trailing slashes on its path: `gpu:runs/x/` and `gpu:runs/x` pull the same mirror. */
export function normalizeSource(source: string): string {
  return source.replace(/(?<=[^:/])\/+$/, '');
}

/**
 * The crontab line for a job: the schedule, then the command cron hands to /bin/sh, then the
 * marker. Every argument that comes from the user or the machine is quoted for the shell; `%`,
 * which cron turns into a newline, is escaped.
 */
export function renderJobLine(job: CronJob): string {
  for (const [what, value] of [
    ['the remote source', job.source],
    ['the local directory', job.destination],
    ['the path of node', job.node],
    ['the path of gsync', job.gsync],
    ['the ssh config path', job.sshConfig ?? ''],
  ] as const) {
    // A newline ends the crontab line and NUL ends cron's copy of it: neither can be quoted.
    if (/[\n\r\0]/.test(value)) throw new GsyncError('usage', `${what} holds a line break or NUL, which a crontab line cannot carry`, { hint: 'rename it, or pick a path without one' });
  }
  const q = cronQuote;
  const sshConfig = job.sshConfig === undefined ? [] : ['-F', q(job.sshConfig)];
  const words = [q(job.node), q(job.gsync), 'pull', q(job.source), q(job.destination), ...sshConfig, '--quiet', '--log-file', q(job.logFile)];
  const command = `${words.join(' ')} # gsync:${job.id}`;
  if (command.length > MAX_COMMAND_LENGTH) {
    throw new GsyncError('usage', `the cron line would be ${command.length} characters after the schedule, and cron takes at most ${MAX_COMMAND_LENGTH}`, {
      hint: 'use a shorter local directory, or install gsync at a shorter path',
    });
  }
  return `${job.schedule} ${command}`;
}

/**
 * One word for /bin/sh as cron hands it over: single quotes (a `'` inside becomes `'\''`), and
 * each `%` written as `'\%'` outside them. cron drops the backslash of `\%` and would cut the
 * command at a bare `%`; putting the `\%` just after a closing quote means no backslash of the
 * word itself can stand before it and turn it into `\\%`, which cron would cut at.
 */
export function cronQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`).replace(/%/g, `'\\%'`)}'`;
}

/** The id in a line's trailing marker, or undefined for a comment, an env line or another job. */
export function markerId(line: string): string | undefined {
  if (/^\s*#/.test(line)) return undefined;
  return MARKER.exec(line)?.[1];
}

/** Reads back a line gsync wrote: its id, schedule, source and destination. */
export function readJobLine(line: string): ListedJob | undefined {
  const id = markerId(line);
  if (id === undefined) return undefined;
  const fields = line.trim().split(/\s+/);
  const schedule = fields.slice(0, 5).join(' ');
  const words = shellWords(cronCommand(line.trim().replace(/^(\S+\s+){5}/, '')));
  const pull = words?.indexOf('pull') ?? -1;
  return { id, schedule, source: pull < 0 ? undefined : words?.[pull + 1], destination: pull < 0 ? undefined : words?.[pull + 2] };
}

/**
 * The text cron hands to the shell, as cron's do_command makes it: `\%` becomes `%`, and a bare
 * `%` ends the command (what follows is the job's stdin).
 */
export function cronCommand(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '%') break;
    if (char === '\\' && text[i + 1] !== undefined) {
      const next = text[++i];
      out += next === '%' ? '%' : `\\${next}`;
      continue;
    }
    out += char;
  }
  return out;
}

/**
 * The words of a simple shell command up to a `#` comment: single and double quotes, backslash
 * escapes. Enough to read back the lines gsync writes; undefined for anything it cannot read.
 */
export function shellWords(command: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const char = command[i] as string;
    if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === '#' && word === undefined) {
      break;
    } else if (char === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word = (word ?? '') + command.slice(i + 1, end);
      i = end;
    } else if (char === '"') {
      let text = '';
      for (i++; i < command.length && command[i] !== '"'; i++) {
        if (command[i] === '\\' && /[$`"\\\n]/.test(command[i + 1] ?? '')) i++;
        text += command[i];
      }
      if (i >= command.length) return undefined;
      word = (word ?? '') + text;
    } else if (char === '\\') {
      word = (word ?? '') + (command[++i] ?? '');
    } else {
      word = (word ?? '') + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
