import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/cli/failure.js';
import { ExitCode, worstExitCode } from '../../src/errors/exitCodes.js';
import { GsyncError, isGsyncError, type ErrorKind } from '../../src/errors/GsyncError.js';
import type { ProblemCode } from '../../src/core/types.js';
import { Tally } from '../../src/pipeline/tally.js';

describe('worstExitCode: fatal codes, then 25, then 23, then 24 (DESIGN.md)', () => {
  const rows: Array<{ description: string; codes: ExitCode[]; want: ExitCode }> = [
    { description: 'nothing reported is success', codes: [], want: 0 },
    { description: 'only successes', codes: [0, 0], want: 0 },
    { description: 'vanished beats ok', codes: [0, 24], want: 24 },
    { description: 'partial beats vanished', codes: [24, 23], want: 23 },
    { description: 'partial beats vanished in either order', codes: [23, 24], want: 23 },
    { description: 'the delete guard beats partial', codes: [23, 25], want: 25 },
    { description: 'the delete guard beats partial in either order', codes: [25, 23, 24], want: 25 },
    { description: 'a fatal code beats the delete guard', codes: [25, 10], want: 10 },
    { description: 'a fatal code beats everything listed before it', codes: [0, 24, 23, 25, 12], want: 12 },
    { description: 'a fatal code beats everything listed after it', codes: [30, 25, 23, 24, 0], want: 30 },
    { description: 'usage is fatal', codes: [24, 1], want: 1 },
    { description: 'unusable path is fatal', codes: [23, 3], want: 3 },
    { description: 'start failed is fatal', codes: [25, 5], want: 5 },
    { description: 'local I/O is fatal', codes: [25, 11], want: 11 },
    { description: 'interrupted is fatal', codes: [23, 20], want: 20 },
    { description: 'locked is fatal', codes: [25, 75], want: 75 },
    { description: 'among fatal codes the first reported is kept', codes: [23, 20, 11], want: 20 },
  ];
  it.each(rows)('$description', ({ codes, want }) => {
    expect(worstExitCode(codes)).toBe(want);
  });

  it('accepts any iterable, not only arrays', () => {
    expect(worstExitCode(new Set<ExitCode>([24, 23]))).toBe(23);
  });

  it('every fatal code outranks every partial-outcome code, in both orders', () => {
    const fatal: ExitCode[] = [1, 3, 5, 10, 11, 12, 20, 30, 75];
    const partial: ExitCode[] = [23, 24, 25];
    for (const f of fatal) {
      for (const p of partial) {
        expect(worstExitCode([f, p]), `${f} vs ${p}`).toBe(f);
        expect(worstExitCode([p, f]), `${p} vs ${f}`).toBe(f);
      }
    }
  });
});

describe('GsyncError: each kind has its documented exit code', () => {
  const rows: Array<{ kind: ErrorKind; want: number }> = [
    { kind: 'usage', want: 1 },
    { kind: 'remote-path', want: 3 },
    { kind: 'local-path', want: 3 },
    { kind: 'auth', want: 5 },
    { kind: 'hostkey', want: 5 },
    { kind: 'sftp', want: 5 },
    { kind: 'network', want: 10 },
    { kind: 'local-io', want: 11 },
    { kind: 'protocol', want: 12 },
    { kind: 'interrupted', want: 20 },
    { kind: 'timeout', want: 30 },
    { kind: 'locked', want: 75 },
  ];
  it.each(rows)('$kind → $want', ({ kind, want }) => {
    const error = new GsyncError(kind, 'something happened', { hint: 'do something' });
    expect(error.exitCode).toBe(want);
    expect(error.kind).toBe(kind);
    expect(error.hint).toBe('do something');
    expect(error).toBeInstanceOf(Error);
    expect(isGsyncError(error)).toBe(true);
  });

  it('keeps its cause', () => {
    const cause = new Error('ECONNRESET');
    expect(new GsyncError('network', 'connection lost', { cause }).cause).toBe(cause);
  });

  it('isGsyncError is false for other values', () => {
    for (const value of [new Error('x'), 'usage', { kind: 'usage', exitCode: 1 }, null, undefined]) {
      expect(isGsyncError(value)).toBe(false);
    }
  });
});

function oclifError(message: string, exit: number): Error {
  return Object.assign(new Error(message), { oclif: { exit } });
}

describe('describeFailure: what the user sees and the exit code', () => {
  const rows: Array<{ description: string; error: unknown; debug: boolean; command?: string; lines: string[]; exitCode: number }> = [
    {
      description: 'a GsyncError gives its message and hint',
      error: new GsyncError('hostkey', 'the host key for gpu changed', { hint: "run ssh-keygen -R '[gpu]:2222'" }),
      debug: false,
      lines: ['gsync: the host key for gpu changed', "  hint: run ssh-keygen -R '[gpu]:2222'"],
      exitCode: 5,
    },
    {
      description: 'a GsyncError without a hint gives one line',
      error: new GsyncError('locked', 'another gsync run holds it'),
      debug: false,
      lines: ['gsync: another gsync run holds it'],
      exitCode: 75,
    },
    {
      description: 'a GsyncError never shows a stack, even with debug',
      error: new GsyncError('usage', 'bad port', { hint: 'Port takes a number' }),
      debug: true,
      lines: ['gsync: bad port', '  hint: Port takes a number'],
      exitCode: 1,
    },
    {
      description: 'a GsyncError message with control characters is escaped',
      error: new GsyncError('remote-path', 'no such dir \u001b[2Jx'),
      debug: false,
      lines: ['gsync: no such dir \\u001b[2Jx'],
      exitCode: 3,
    },
    {
      description: "an oclif parse error (oclif's exit 2) is a usage error: exit 1",
      error: oclifError('Nonexistent flag: --bogus\nSee more help with --help', 2),
      debug: false,
      lines: ['gsync: Nonexistent flag: --bogus', '  hint: see gsync pull --help'],
      exitCode: 1,
    },
    {
      description: "oclif's heading for a missing argument is joined to the argument it names",
      error: oclifError('Missing 1 required arg:\nsource  <alias>:<remote-path>\nSee more help with --help', 2),
      debug: false,
      lines: ['gsync: Missing 1 required arg: source <alias>:<remote-path>', '  hint: see gsync pull --help'],
      exitCode: 1,
    },
    {
      description: "oclif's 'Parsing --flag' keeps the reason the value was refused",
      error: oclifError('Parsing --timeout \n\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help', 2),
      debug: false,
      lines: ['gsync: Parsing --timeout: Expected an integer greater than or equal to 1 but received: 0', '  hint: see gsync pull --help'],
      exitCode: 1,
    },
    {
      description: "oclif's bare 'The following error occurred:' gives way to the error, and the hint names the command that failed",
      error: oclifError('The following error occurred:\n  Exactly one of the following must be provided: --every, --schedule\nSee more help with --help', 2),
      debug: false,
      command: 'cron add',
      lines: ['gsync: Exactly one of the following must be provided: --every, --schedule', '  hint: see gsync cron add --help'],
      exitCode: 1,
    },
    {
      description: "oclif's note about multi-value flags is left out",
      error: oclifError('Missing 1 required arg:\nsource  <alias>:<remote-path>\n\nNote: --identity, --option allow multiple values.\nSee more help with --help', 2),
      debug: false,
      lines: ['gsync: Missing 1 required arg: source <alias>:<remote-path>', '  hint: see gsync pull --help'],
      exitCode: 1,
    },
    {
      description: 'an oclif exit 0 (e.g. --help) stays 0',
      error: oclifError('EEXIT: 0', 0),
      debug: false,
      lines: ['gsync: EEXIT: 0', '  hint: see gsync pull --help'],
      exitCode: 0,
    },
  ];
  it.each(rows)('$description', ({ error, debug, command, lines, exitCode }) => {
    const failure = describeFailure(error, debug, command);
    expect(failure.lines).toStrictEqual(lines);
    expect(failure.exitCode).toBe(exitCode);
  });

  const unexpected: Array<{ description: string; error: unknown; debug: boolean; stack: boolean; message: string }> = [
    { description: 'an unexpected Error without debug has no stack', error: new Error('boom'), debug: false, stack: false, message: 'boom' },
    { description: 'an unexpected Error with debug has its stack', error: new Error('boom'), debug: true, stack: true, message: 'boom' },
    { description: 'a thrown string', error: 'boom', debug: false, stack: false, message: 'boom' },
    { description: 'a thrown string with debug has no stack to show', error: 'boom', debug: true, stack: false, message: 'boom' },
    // "Maps anything thrown": `throw null` and `throw undefined` are things that can be thrown.
    { description: 'a thrown null', error: null, debug: false, stack: false, message: 'null' },
    { description: 'a thrown undefined', error: undefined, debug: false, stack: false, message: 'undefined' },
  ];
  it.each(unexpected)('$description', ({ error, debug, stack, message }) => {
    const failure = describeFailure(error, debug);
    expect(failure.exitCode).toBe(11);
    expect(failure.lines[0]).toBe(`gsync: unexpected error: ${message}`);
    expect(failure.lines[1]).toMatch(/^ {2}hint: /);
    const stackLines = failure.lines.filter((line) => /\n\s+at /.test(line) || /^\s+at /.test(line));
    expect(stackLines.length > 0).toBe(stack);
    expect(failure.lines.length).toBe(stack ? 3 : 2);
  });

  it('an unexpected error message never passes control characters to the terminal', () => {
    // e.g. an errno message naming a server-controlled file name
    const failure = describeFailure(new Error("ENOENT: no such file, open '\u001b]0;pwned\u0007'"), false);
    for (const line of failure.lines) {
      const controls = [...line].filter((c) => c.charCodeAt(0) <= 0x1f || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f));
      expect(controls, line).toStrictEqual([]);
    }
  });
});

describe("Tally.problemsExitCode: a failed entry's 23, then a file's protocol break (12), then vanished or changing (24)", () => {
  const rows: Array<{ codes: ProblemCode[]; want: ExitCode }> = [
    { codes: [], want: 0 },
    { codes: ['vanished'], want: 24 },
    { codes: ['changed', 'vanished'], want: 24 },
    { codes: ['protocol'], want: 12 },
    { codes: ['vanished', 'protocol', 'changed'], want: 12 },
    { codes: ['protocol', 'permission-denied'], want: 23 },
    { codes: ['unsafe-name', 'vanished'], want: 23 },
  ];
  it.each(rows)('$codes → $want', ({ codes, want }) => {
    const tally = new Tally({ emit: () => undefined });
    for (const [i, code] of codes.entries()) tally.problem({ path: `f${i}`, stage: 'transfer', code, message: code });
    expect(tally.problemsExitCode()).toBe(want);
  });
});
