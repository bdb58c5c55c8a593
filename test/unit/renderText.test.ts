import { describe, expect, it } from 'vitest';
import type { Level } from '../../src/cli/render/lines.js';
import { plainRenderer } from '../../src/cli/render/plain.js';
import { displayWidth, formatEta, progressLine } from '../../src/cli/render/progressLine.js';
import { RateWindow } from '../../src/cli/render/rate.js';
import { receivedLines, summaryLines } from '../../src/cli/render/summary.js';
import { ttyRenderer } from '../../src/cli/render/tty.js';
import type { RunEvent } from '../../src/pipeline/events.js';
import { dryRunEvents, EVIL, everyEvent, progress, summary } from './renderEvents.js';

const MiB = 1024 * 1024;

/** A clock the test moves by hand. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let at = 1_000_000;
  return { now: () => at, advance: (ms) => (at += ms) };
}

function plain(level: Level, events: readonly RunEvent[], c = clock(), stepMs = 0): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const renderer = plainRenderer({ level, out: (l) => out.push(l), err: (l) => err.push(l), now: c.now });
  for (const event of events) {
    renderer.emit(event);
    c.advance(stepMs);
  }
  return { out, err };
}

/** Control bytes other than the ones a renderer means to write. */
const controls = (text: string, allowed: readonly number[] = []): number[] =>
  [...text].map((c) => c.charCodeAt(0)).filter((code) => (code < 0x20 || (code >= 0x7f && code <= 0x9f)) && !allowed.includes(code));

describe('plain lines (off a terminal, and the log file)', () => {
  it('normal: the start, a line per file, notices and problems on stderr, then the summary block', () => {
    const { out, err } = plain('normal', everyEvent());
    expect(out).toStrictEqual([
      'pulling box:runs/exp1 into /home/me/exp1 (run #7)',
      'ckpt.pt (resumed)',
      'evil\\u001b[2J\\u009b31m.txt',
      '2 files transferred (3.0 MiB), 1 up to date (1.0 KiB), 1 problem in 2.00 s (1.5 MiB/s)',
      '  permission-denied: secret.bin: cannot read: Permission denied',
      'received 3.0 MiB in 2.00 s (1.5 MiB/s)',
      'total size is 3.0 MiB  speedup is 0.99',
    ]);
    expect(err).toStrictEqual([
      'gsync: ckpt.pt: the connection failed: reset; trying again in 0.4 s (1 of 5)',
      'gsync: fifo: not a regular file, directory or symlink (a FIFO, socket or device)',
      'gsync: secret.bin: cannot read: Permission denied',
    ]);
  });

  it('quiet: problems and the summary block only', () => {
    const { out, err } = plain('quiet', everyEvent());
    expect(out[0]).toMatch(/^2 files transferred/);
    expect(out).toHaveLength(4);
    expect(err).toStrictEqual(['gsync: secret.bin: cannot read: Permission denied']);
  });

  it('verbose: also a line per directory, with how it ended', () => {
    const { out } = plain('verbose', everyEvent());
    expect(out).toContain('./: 1 entry failed');
    expect(out).toContain('logs/: complete');
  });

  it('a progress line once a minute, never more, with the rate over the last seconds', () => {
    const c = clock();
    // Ten minutes of progress events every 100 ms, at 1 MiB/s.
    const events = Array.from({ length: 6000 }, (_, i) => progress({ bytesDone: (i * MiB) / 10, bytesTotal: 1024 * MiB, filesDone: 1, filesTotal: 4, current: 'a.bin' }));
    const { out } = plain('normal', events, c, 100);
    expect(out).toHaveLength(9);
    expect(out[0]).toBe('progress: 60.0 MiB / 1.0 GiB  5%  1.0 MiB/s  ETA 16:04  files 1/4');
    expect(plain('quiet', events, clock(), 100).out).toStrictEqual([]);
  });

  it('a dry run: the plan itemized (not with -q), a delete guard refusal on stderr, the totals', () => {
    const { out, err } = plain('normal', dryRunEvents());
    expect(out).toStrictEqual([
      'mkdir    logs/',
      'resume   ckpt.pt (1.0 KiB) at 40%',
      'delete   evil\\u001b[2J\\u009b31m.txt',
      'dry run: 1 file to transfer (1.0 KiB), 4 up to date, 1 to delete; nothing was changed',
    ]);
    expect(err).toStrictEqual(['gsync: --delete would remove 1 files, more than --max-delete 0: nothing was deleted']);
    expect(plain('quiet', dryRunEvents()).out).toStrictEqual([out.at(-1)]);
  });

  it('after a --delete run, what it removed, between the summary line and the problems', () => {
    const { out } = plain('quiet', [{ type: 'done', summary: summary({ deleted: ['old/', 'gone.txt'], filesDeleted: 3 }) }]);
    expect(out.slice(0, 3)).toStrictEqual([expect.stringMatching(/^2 files transferred .*, 3 deleted in /), '  deleted: old/', '  deleted: gone.txt']);
  });

  it('escapes every server-controlled string it prints', () => {
    const events: RunEvent[] = [
      { type: 'file', path: EVIL, bytes: 1, size: 1, transfer: 'whole' },
      { type: 'notice', path: EVIL, message: `refused: ${EVIL}` },
      { type: 'retry', path: EVIL, message: `reset by ${EVIL}`, reason: EVIL, attempt: 1, of: 5, waitMs: 1 },
      { type: 'problem', problem: { path: EVIL, stage: 'scan', code: 'io', message: EVIL } },
      { type: 'dir-done', path: EVIL, outcome: 'complete', problems: 0 },
      { type: 'done', summary: summary({ problems: [{ path: EVIL, stage: 'scan', code: 'io', message: EVIL }] }) },
    ];
    const { out, err } = plain('verbose', events);
    expect(controls([...out, ...err].join(''))).toStrictEqual([]);
  });
});

describe('the closing summary', () => {
  it('ends as rsync does: bytes received and their rate, then total size and speedup', () => {
    expect(receivedLines(summary({ bytesReceived: 4 * 1024, totalSize: 40 * 1024 * 1024, durationMs: 500 }))).toStrictEqual([
      'received 4.0 KiB in 0.50 s (8.0 KiB/s)',
      'total size is 40.0 MiB  speedup is 10240.00',
    ]);
    expect(summaryLines(summary({ bytesReceived: 0 })).at(-1)).toBe('total size is 3.0 MiB  speedup is n/a');
  });
});

/** A terminal: what was written, in order, and the width it reports. */
function terminal(level: Level, columns = 80): { screen: () => string; err: string[]; emit: (e: RunEvent) => void; failed: () => void; c: ReturnType<typeof clock> } {
  const c = clock();
  let screen = '';
  const err: string[] = [];
  const renderer = ttyRenderer({ level, write: (text) => (screen += text), err: (line) => err.push(line), columns: () => columns, now: c.now });
  return { screen: () => screen, err, emit: (e) => renderer.emit(e), failed: () => renderer.failed(undefined), c };
}

/** Clear-to-end-of-line, made visible so patterns can name it. */
const shown = (screen: string): string => screen.replaceAll('\u001b[K', '⟨EL⟩');

/** Each drawing of the live line: "\r<line>ESC[K". */
const draws = (screen: string): string[] => [...shown(screen).matchAll(/\r([^\r\n⟨]*)⟨EL⟩/g)].map((m) => m[1] ?? '').filter(Boolean);

describe('the terminal: one live line', () => {
  it('is redrawn at most ten times a second, however often progress comes', () => {
    const t = terminal('normal');
    for (let i = 0; i < 100; i++) {
      t.emit(progress({ bytesDone: i * MiB }));
      t.c.advance(20);
    }
    // 2 s of events every 20 ms.
    expect(draws(t.screen())).toHaveLength(20);
    expect(draws(t.screen())[0]).toBe('0 B / 64.0 MiB  0%  ETA --:--  files 0/3');
  });

  it('is cleared before any other line and before the summary, and drawn again after', () => {
    const t = terminal('normal');
    t.emit(progress({ bytesDone: MiB, current: 'a.bin' }));
    t.emit({ type: 'problem', problem: { path: 'b', stage: 'transfer', code: 'io', message: 'EIO' } });
    expect(t.screen()).toBe('\r1.0 MiB / 64.0 MiB  1%  ETA --:--  files 0/3  a.bin\u001b[K\r\u001b[K');
    expect(t.err).toStrictEqual(['gsync: b: EIO']);
    t.c.advance(100);
    t.emit(progress({ bytesDone: 2 * MiB }));
    t.emit({ type: 'done', summary: summary() });
    const screen = shown(t.screen());
    expect(screen).toMatch(/\r2\.0 MiB \/ 64\.0 MiB {2}3% {2}ETA --:-- {2}files 0\/3⟨EL⟩\r⟨EL⟩2 files transferred .*\nreceived .*\ntotal size is 3\.0 MiB {2}speedup is 0\.99\n$/);
  });

  it('is cleared when the run fails, so the error starts a clean line', () => {
    const t = terminal('normal');
    t.emit(progress());
    t.failed();
    expect(t.screen().endsWith('\r\u001b[K')).toBe(true);
    t.failed();
    expect(shown(t.screen()).match(/\r⟨EL⟩/g)).toHaveLength(1);
  });

  it('prints files only with -v, and nothing but problems and the summary with -q', () => {
    const normal = terminal('normal');
    const verbose = terminal('verbose');
    const quiet = terminal('quiet');
    for (const t of [normal, verbose, quiet]) for (const event of everyEvent()) t.emit(event);
    expect(normal.screen()).not.toContain('ckpt.pt (resumed)\n');
    expect(verbose.screen()).toContain('ckpt.pt (resumed)\n');
    expect(draws(quiet.screen())).toStrictEqual([]);
    expect(quiet.err).toStrictEqual(['gsync: secret.bin: cannot read: Permission denied']);
    expect(quiet.screen()).toMatch(/^2 files transferred/);
  });

  it('fits the width: the counters first, then the end of the current file, nothing raw', () => {
    const t = terminal('normal', 60);
    t.emit(progress({ bytesDone: 5 * MiB, current: `very/long/directory/name/${EVIL}` }));
    const [line] = draws(t.screen());
    expect(line).toBe('5.0 MiB / 64.0 MiB  7%  ETA --:--  files 0/3  …u009b31m.txt');
    expect(displayWidth(line ?? '')).toBeLessThanOrEqual(59);
    expect(controls(t.screen(), [0x0d, 0x1b])).toStrictEqual([]);
  });
});

describe('progress line parts', () => {
  it.each([
    { seconds: undefined, text: '--:--' },
    { seconds: 0, text: '0:00' },
    { seconds: 59.6, text: '1:00' },
    { seconds: 3599, text: '59:59' },
    { seconds: 3600 + 62, text: '1:01:02' },
    { seconds: 100 * 3600, text: '--:--' },
  ])('ETA of $seconds s reads $text', ({ seconds, text }) => {
    expect(formatEta(seconds)).toBe(text);
  });

  it('a rate needs a second of samples, and looks back five seconds', () => {
    const rate = new RateWindow();
    rate.add(0, 0);
    rate.add(500, 10 * MiB);
    expect(rate.rate()).toBeUndefined();
    for (let t = 1000; t <= 20_000; t += 1000) rate.add(t, 10 * MiB + (t / 1000) * MiB);
    // 1 MiB/s for the last 19 s: the early burst has left the window.
    expect(rate.rate()).toBe(MiB);
  });

  it('cuts double-width names by cells, never past the width', () => {
    const line = progressLine({ ...(progress({ current: '実験/チェックポイント/最新のモデル.pt' }) as Extract<RunEvent, { type: 'progress' }>), rate: 2 * MiB }, 64);
    expect(line).toMatch(/^0 B \/ 64\.0 MiB {2}0% {2}2\.0 MiB\/s {2}ETA 0:32 {2}files 0\/3 {2}…/);
    // A wide character that would straddle the last cell is left out too.
    expect(displayWidth(line)).toBeLessThanOrEqual(63);
    expect(displayWidth(line)).toBeGreaterThanOrEqual(62);
    expect(displayWidth(progressLine({ ...(progress() as Extract<RunEvent, { type: 'progress' }>), rate: MiB }, 30))).toBe(29);
    expect(line.endsWith('モデル.pt')).toBe(true);
  });
});
