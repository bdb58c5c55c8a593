import { describe, expect, it } from 'vitest';
import { problemLines } from '../../src/cli/render/summary.js';
import { statusLines } from '../../src/cli/render/status.js';
import type { Problem } from '../../src/core/types.js';

const problem = (path: string, code: Problem['code'], message = `${code} happened`): Problem => ({ path, stage: 'transfer', code, message });

describe('problemLines: the closing list of what was left out', () => {
  it('lists failures before vanished and changing files, each with its reason', () => {
    const lines = problemLines([problem('a/gone.txt', 'vanished'), problem('b/secret.bin', 'permission-denied', 'cannot read: Permission denied'), problem('', 'io')]);
    expect(lines).toStrictEqual([
      '  permission-denied: b/secret.bin: cannot read: Permission denied',
      '  io: .: io happened',
      '  vanished: a/gone.txt: vanished happened',
    ]);
  });

  it('escapes server-controlled names', () => {
    expect(problemLines([problem('evil\u001b[2Jname', 'changed')])[0]).not.toContain('\u001b');
  });

  it('caps a long list and points at gsync status', () => {
    const many = Array.from({ length: 60 }, (_, i) => problem(`f${i}`, 'permission-denied'));
    const lines = problemLines(many);
    expect(lines).toHaveLength(51);
    expect(lines.at(-1)).toBe('  … and 10 more: gsync status lists them all');
  });

  it('says nothing when nothing was left out', () => {
    expect(problemLines([])).toStrictEqual([]);
  });
});

describe('statusLines', () => {
  const run = {
    id: 4,
    source: 'box:runs',
    startedAt: Date.UTC(2026, 10, 24, 8, 0, 0),
    finishedAt: Date.UTC(2026, 10, 24, 8, 0, 3),
    exitCode: 23,
    filesTransferred: 10,
    bytesTransferred: 2048,
    filesSkipped: 1,
    bytesSkipped: 0,
    message: null,
    problems: [problem('secret', 'permission-denied', 'cannot list directory: Permission denied')],
  };

  it('shows each run with its problems, then unfinished directories, then partials', () => {
    const lines = statusLines({
      runs: [run],
      dirs: [
        { path: 'secret', outcome: 'unlisted', runId: 4 },
        { path: 'logs', outcome: 'incomplete', runId: 4 },
      ],
      partials: [{ path: 'ckpt.pt', size: 16 * 1024 * 1024, bytesDone: 4 * 1024 * 1024, percent: 25 }],
    });
    expect(lines).toStrictEqual([
      '#4 2026-11-24 08:00:00 box:runs: exit 23, 10 files (2.0 KiB) transferred, 1 up to date in 3.00 s',
      '    permission-denied: secret: cannot list directory: Permission denied',
      'directories not complete (the next run tries them again):',
      '    secret: could not be listed (run #4)',
      '    logs: some entries failed (run #4)',
      'partial files (the next run resumes them):',
      '    ckpt.pt: 25% of 16.0 MiB',
    ]);
  });

  it('says so when nothing ran yet', () => {
    expect(statusLines({ runs: [], dirs: [], partials: [] })).toStrictEqual(['no runs recorded yet']);
  });
});
