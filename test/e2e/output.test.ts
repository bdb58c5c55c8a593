import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { chmod, readFile, rm, stat, symlink as makeSymlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { e2eSuite } from '../support/e2eSuite.js';
import { validate } from '../support/jsonSchema.js';
import { runProcess } from '../support/runProcess.js';
import { GSYNC_BIN, REPO_ROOT, runGsync } from '../support/runGsync.js';
import { dir, file, readTree, symlink } from '../support/trees.js';

const e2e = e2eSuite({ prefix: 'gsync-e2e-output-', proxy: true });

const MiB = 1024 * 1024;
const schema = JSON.parse(await readFile(join(REPO_ROOT, 'docs', 'events.schema.json'), 'utf8')) as Record<string, unknown>;

/** A name a hostile server could send: ESC and C1's CSI (U+009B) would drive a terminal if written raw. */
const EVIL = 'evil\u001b[2J\u009b31m.txt';

/** Directories, small files and a blocked one, a symlink, a hostile name, and a file the server will not let anyone read (a problem). */
const tree = {
  'config.json': file('{"lr": 0.001}\n'),
  [EVIL]: file('not a terminal command\n'),
  'secret.bin': file(100, { mode: 0o000 }),
  logs: dir({ 'train.log': file('loss 0.5\n'.repeat(1000)), deeper: dir({ 'leaf.bin': file(4097) }) }),
  checkpoints: dir({ 'big.pt': file(24 * MiB), 'latest.pt': symlink('big.pt') }),
};
const FILES = new Set(['config.json', EVIL, 'logs/train.log', 'logs/deeper/leaf.bin', 'checkpoints/big.pt']);
const DIRS = new Set(['', 'logs', 'logs/deeper', 'checkpoints']);

type Event = Record<string, unknown> & { event: string };

/** Each line of --json output, parsed, after checking it against docs/events.schema.json. */
function eventsOf(stdout: string): Event[] {
  const lines = stdout.split('\n');
  expect(lines.pop(), 'the output ends with a newline').toBe('');
  return lines.map((line, i) => {
    const value = JSON.parse(line) as Event;
    expect(validate(schema, value), `line ${i + 1}: ${line}`).toStrictEqual([]);
    return value;
  });
}

const ofType = (events: Event[], type: string): Event[] => events.filter((e) => e.event === type);
const sum = (events: Event[], field: string): number => events.reduce((total, e) => total + (e[field] as number), 0);

/** Characters a terminal would act on: C0 controls other than newline, DEL, and the C1 controls (in UTF-8, 0xC2 0x80–0x9F). */
function rawControls(text: string): string[] {
  const codes = [...text].map((c) => c.charCodeAt(0));
  return codes.filter((code) => code !== 0x0a && (code < 0x20 || (code >= 0x7f && code <= 0x9f))).map((code) => `U+${code.toString(16).padStart(4, '0')}`);
}

/** Clear-to-end-of-line, made visible so patterns can name it. */
const EL = '⟨EL⟩';
const shown = (screen: string): string => screen.replaceAll('\u001b[K', EL);

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe('gsync pull --json', () => {
  it('prints one schema-valid event per line: start, every directory and file, retries, the problem, and a summary whose totals add up', async () => {
    const remote = await e2e.remoteTree('run', tree);
    const local = join(await e2e.tempDir(), 'mirror');
    // The worker's link breaks every 8 MiB of the 24 MiB file: retries, and the run still completes.
    e2e.proxy.setMode({ kind: 'drop-after', bytes: 8 * MiB });
    const result = await runGsync(['pull', '--json', '--connections', '1', `via-proxy:${remote}`, local], { env: e2e.sshd.env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(23);
    // --json keeps stdout for the events; a per-path problem is an event, not a stderr line.
    expect(result.stderr).toBe('');
    expect(rawControls(result.stdout)).toStrictEqual([]);

    const events = eventsOf(result.stdout);
    expect(events[0]).toMatchObject({ event: 'start', source: `via-proxy:${remote}`, destination: local });
    const summary = events.at(-1) as Event;
    expect(summary).toMatchObject({ event: 'summary', runId: events[0]?.runId, exitCode: 23, filesTransferred: FILES.size, symlinks: 1, dirs: DIRS.size });
    expect(ofType(events, 'summary')).toHaveLength(1);

    expect(new Set(ofType(events, 'dir-start').map((e) => e.path))).toStrictEqual(DIRS);
    const dirsDone = ofType(events, 'dir-done');
    expect(new Set(dirsDone.map((e) => e.path))).toStrictEqual(DIRS);
    expect(dirsDone.find((e) => e.path === '')).toMatchObject({ outcome: 'incomplete', problems: 1 });
    expect(dirsDone.filter((e) => e.path !== '').every((e) => e.outcome === 'complete')).toBe(true);

    const files = ofType(events, 'file');
    // The hostile name arrives exact: escaped only in the JSON text, never changed.
    expect(new Set(files.map((e) => e.path))).toStrictEqual(FILES);
    const want = await readTree(remote);
    for (const e of files) expect(e.size, String(e.path)).toBe(want.get(e.path as string)?.size);
    expect(summary.bytesTransferred).toBe(sum(files, 'bytes'));
    expect(summary.totalSize).toBe(sum(files, 'size') + (summary.bytesSkipped as number));
    expect(files.every((e) => e.transfer === 'whole' || e.transfer === 'tar')).toBe(true);

    const problems = ofType(events, 'problem');
    expect(problems).toStrictEqual([expect.objectContaining({ path: 'secret.bin', code: 'permission-denied', stage: 'transfer' })]);
    expect(summary.problems).toStrictEqual([{ path: 'secret.bin', code: 'permission-denied', stage: 'transfer', message: problems[0]?.message }]);

    const retries = ofType(events, 'retry');
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries).toContainEqual(expect.objectContaining({ path: 'checkpoints/big.pt', attempt: 1, of: 5 }));

    // Every link counted: the file bytes and more (SSH framing, listings, handshakes).
    expect(summary.bytesReceived as number).toBeGreaterThan(summary.bytesTransferred as number);
    expect(summary.speedup).toBeCloseTo((summary.totalSize as number) / (summary.bytesReceived as number), 6);
    const times = events.map((e) => Date.parse(e.time as string));
    expect(times).toStrictEqual([...times].sort((a, b) => a - b));
  });

  it('counts the bytes on the wire as the link carried them: a re-run receives little, and its speedup shows it', async () => {
    const remote = await e2e.remoteTree('rerun', { 'a.bin': file(2 * MiB), sub: dir({ 'b.bin': file(MiB) }) });
    const local = join(await e2e.tempDir(), 'mirror');
    const pull = async (): Promise<Event> => {
      const before = e2e.proxy.bytesDown;
      const result = await runGsync(['pull', '--json', `via-proxy:${remote}`, local], { env: e2e.sshd.env });
      expect(result.code, result.stderr).toBe(0);
      const summary = eventsOf(result.stdout).at(-1) as Event;
      const carried = e2e.proxy.bytesDown - before;
      // All of it but what the server sends while the connections close, after the count is taken.
      expect(summary.bytesReceived as number).toBeLessThanOrEqual(carried);
      expect(summary.bytesReceived as number).toBeGreaterThan(carried - 16 * 1024);
      return summary;
    };
    const first = await pull();
    expect(first).toMatchObject({ filesTransferred: 2, bytesTransferred: 3 * MiB, totalSize: 3 * MiB });
    const second = await pull();
    expect(second).toMatchObject({ filesTransferred: 0, filesSkipped: 2, totalSize: 3 * MiB });
    expect(second.speedup as number).toBeGreaterThan(10 * (first.speedup as number));
  });

  it('a dry run is its plan, one planned event per change, then dry-run-summary; a --delete run lists what it removed', async () => {
    const remote = await e2e.remoteTree('planned', { 'keep.txt': file('keep'), 'gone.txt': file('gone'), sub: dir({ 'new.bin': file(5000) }) });
    const local = join(await e2e.tempDir(), 'mirror');
    const first = await runGsync(['pull', '--json', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(first.code, first.stderr).toBe(0);
    await rm(join(remote, 'gone.txt'));
    await writeFile(join(remote, 'sub', 'more.txt'), 'more');

    const dry = await runGsync(['pull', '--json', '--dry-run', '--delete', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(dry.code, dry.stderr).toBe(0);
    const plan = eventsOf(dry.stdout);
    expect(plan.slice(0, -1).map((e) => [e.event, e.change, e.path])).toStrictEqual([
      ['planned', 'delete', 'gone.txt'],
      ['planned', 'new', 'sub/more.txt'],
    ]);
    expect(plan.at(-1)).toMatchObject({ event: 'dry-run-summary', exitCode: 0, filesToTransfer: 1, bytesToTransfer: 4, filesToDelete: 1, toDelete: ['gone.txt'] });

    const run = await runGsync(['pull', '--json', '--delete', `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(run.code, run.stderr).toBe(0);
    expect(eventsOf(run.stdout).at(-1)).toMatchObject({ event: 'summary', filesTransferred: 1, filesDeleted: 1, deleted: ['gone.txt'] });
  });

  it('ends with an error event, and the exit code, when the run cannot start', async () => {
    const result = await runGsync(['pull', '--json', `${e2e.sshd.alias}:/no/such/dir`, join(await e2e.tempDir(), 'out')], { env: e2e.sshd.env });
    expect(result.code).toBe(3);
    const events = eventsOf(result.stdout);
    expect(events).toStrictEqual([expect.objectContaining({ event: 'error', kind: 'remote-path', exitCode: 3 })]);
    expect(result.stderr).toMatch(/^gsync: /);
  });
});

describe('standard output that cannot be written', () => {
  /** Runs gsync with stdout on `stdout` (a file descriptor, or a pipe closed before anything is read). */
  async function runWithStdout(args: string[], stdout: number | 'closed-pipe'): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [GSYNC_BIN, ...args], { env: e2e.sshd.env, stdio: ['ignore', stdout === 'closed-pipe' ? 'pipe' : stdout, 'pipe'] });
    if (stdout === 'closed-pipe') child.stdout?.destroy();
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stderr };
  }

  it('a full disk behind stdout: the pull still completes and is recorded, one line says so, exit 11', async () => {
    const remote = await e2e.remoteTree('stdout-full', { 'a.txt': file('one'), sub: dir({ 'b.bin': file(70_000) }) });
    const local = join(await e2e.tempDir(), 'out');
    const full = openSync('/dev/full', 'w');
    try {
      const result = await runWithStdout(['pull', '--verbose', `${e2e.sshd.alias}:${remote}`, local], full);
      expect(result.code, result.stderr).toBe(11);
      expect(result.stderr).toBe('gsync: cannot write to standard output: ENOSPC\n');
      const status = await runWithStdout(['status', local], full);
      expect(status.code, status.stderr).toBe(11);
    } finally {
      closeSync(full);
    }
    expect(await readTree(local)).toEqual(await readTree(remote));
    const status = await runGsync(['status', local], { env: e2e.sshd.env });
    expect(status.stdout).toMatch(/^#1 .*: ok, 2 files/m);
  });

  it('a reader that went away (a pipe closed, as by `| head`) is no failure: exit 0, nothing said', async () => {
    const remote = await e2e.remoteTree('stdout-closed', { 'a.txt': file('one') });
    const local = join(await e2e.tempDir(), 'out');
    const result = await runWithStdout(['pull', '--verbose', `${e2e.sshd.alias}:${remote}`, local], 'closed-pipe');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(await readTree(local)).toEqual(await readTree(remote));
  });
});

describe('gsync pull at a terminal', () => {
  it('redraws one progress line in place, within the width, and clears it before the summary', async () => {
    const remote = await e2e.remoteTree('tty', { 'big.bin': file(32 * MiB), 'small.txt': file('hello\n') });
    const local = join(await e2e.tempDir(), 'mirror');
    // A 50 ms round trip: the transfer takes long enough for the line to be drawn several times.
    e2e.proxy.setMode({ kind: 'delay', ms: 25 });
    const command = `stty cols 72; exec ${[process.execPath, GSYNC_BIN, 'pull', `via-proxy:${remote}`, local].map(shellQuote).join(' ')}`;
    const result = await runProcess('script', ['-qfec', command, '/dev/null'], { env: e2e.sshd.env, timeoutMs: 120_000 });
    const screen = shown(result.stdout.toString('utf8'));
    expect(result.code, screen).toBe(0);

    const draws = [...screen.matchAll(/\r([^\r\n⟨]*)⟨EL⟩/g)].map((m) => m[1] ?? '').filter((line) => line !== '');
    expect(draws.length, JSON.stringify(screen)).toBeGreaterThanOrEqual(2);
    for (const line of draws) {
      expect(line).toMatch(/^\d+(\.\d)? (B|KiB|MiB) \/ \d+(\.\d)? (B|KiB|MiB)\s/);
      expect(line).toMatch(/ETA ((\d+:)?\d+:\d\d|--:--) {2}files \d+\/\d+/);
      expect([...line].length).toBeLessThan(72);
    }
    expect(draws.some((line) => line.endsWith('big.bin'))).toBe(true);
    // Cleared, then the summary on a line of its own; no file lines without -v.
    expect(screen).toMatch(/\r⟨EL⟩2 files transferred \(32\.0 MiB\), 0 up to date \(0 B\) in [^\r\n]*\r\n/);
    expect(screen).toMatch(/\r\ntotal size is 32\.0 MiB {2}speedup is \d+\.\d\d\r\n$/);
    expect(screen).not.toMatch(/^small\.txt/m);
    expect(await readTree(local)).toStrictEqual(await readTree(remote));
  });
});

describe('gsync pull off a terminal', () => {
  it('prints a line per file and the summary; --quiet only the summary and errors; --log-file keeps it all, timestamped, 0600, appended', async () => {
    const remote = await e2e.remoteTree('plain', tree);
    const local = join(await e2e.tempDir(), 'mirror');
    const logFile = join(await e2e.tempDir(), 'gsync.log');

    const quiet = await runGsync(['pull', '--quiet', '--log-file', logFile, `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(quiet.code, quiet.stderr).toBe(23);
    const quietLines = quiet.stdout.trimEnd().split('\n');
    expect(quietLines[0]).toMatch(/^5 files transferred \(24\.0 MiB\), 0 up to date \(0 B\), 1 symlink, 1 problem in /);
    expect(quietLines.slice(1)).toStrictEqual([
      expect.stringMatching(/^ {2}permission-denied: secret\.bin: /),
      expect.stringMatching(/^received \d+\.\d MiB in .* \(.*\/s\)$/),
      expect.stringMatching(/^total size is 24\.0 MiB {2}speedup is (0\.9\d|1\.00)$/),
    ]);
    expect(quiet.stderr).toMatch(/^gsync: secret\.bin: cannot read: Permission denied\n$/);

    expect((await stat(logFile)).mode & 0o777).toBe(0o600);
    const firstLog = await readFile(logFile, 'utf8');
    const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
    const logged = firstLog.trimEnd().split('\n');
    expect(logged.every((line) => stamp.test(line))).toBe(true);
    const texts = logged.map((line) => line.replace(stamp, ''));
    expect(texts[0]).toBe(`pulling ${e2e.sshd.alias}:${remote} into ${local} (run #1)`);
    expect(texts).toContain('gsync: secret.bin: cannot read: Permission denied');
    expect(texts).toContain('logs/deeper/leaf.bin');
    // The hostile name escaped, as everywhere a person reads.
    expect(texts).toContain('evil\\u001b[2J\\u009b31m.txt');
    expect(rawControls(firstLog)).toStrictEqual([]);
    expect(texts.at(-1)).toMatch(/^total size is 24\.0 MiB {2}speedup is /);
    const key = await readFile(e2e.sshd.identityPath, 'utf8');
    for (const line of key.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'))) expect(firstLog).not.toContain(line);

    // Fixed at the source: the next run fetches it, a line for it and the summary.
    await chmod(join(remote, 'secret.bin'), 0o644);
    const plain = await runGsync(['pull', '--log-file', logFile, `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(new RegExp(`^pulling ${e2e.sshd.alias}:.* into .* \\(run #2\\)\\nsecret\\.bin\\n1 file transferred \\(100 B\\), 6 up to date`));
    expect(plain.stderr).toBe('');
    const secondLog = await readFile(logFile, 'utf8');
    expect(secondLog.startsWith(firstLog)).toBe(true);
    expect(secondLog.slice(firstLog.length)).toMatch(/\(run #2\)\n.* secret\.bin\n.* 1 file transferred/);
  });

  it('refuses a log file it cannot open before touching anything: exit 11, the destination not made', async () => {
    const remote = await e2e.remoteTree('nolog', { 'a.txt': file('a') });
    const parent = await e2e.tempDir();
    const local = join(parent, 'mirror');
    await writeFile(join(parent, 'not-a-dir'), '');
    const result = await runGsync(['pull', '--log-file', join(parent, 'not-a-dir', 'gsync.log'), `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(result.code).toBe(11);
    expect(result.stderr).toMatch(/^gsync: cannot open the log file .*not-a-dir\/gsync\.log: ENOTDIR\n {2}hint: /);
    await expect(stat(local)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('never appends through a symlink standing at the log file name: exit 11, its target untouched', async () => {
    const remote = await e2e.remoteTree('linklog', { 'a.txt': file('a') });
    const parent = await e2e.tempDir();
    const target = join(parent, 'bashrc');
    await writeFile(target, 'the user file\n');
    await makeSymlink(target, join(parent, 'gsync.log'));
    const result = await runGsync(['pull', '--log-file', join(parent, 'gsync.log'), `${e2e.sshd.alias}:${remote}`, join(parent, 'mirror')], { env: e2e.sshd.env });
    expect(result.code).toBe(11);
    expect(result.stderr).toMatch(/^gsync: cannot open the log file .*gsync\.log: ELOOP/);
    expect(await readFile(target, 'utf8')).toBe('the user file\n');
  });

  it("makes the directories above a log that lives in the destination's own .gsync (as gsync cron's does) on the first run", async () => {
    const remote = await e2e.remoteTree('firstlog', { 'a.txt': file('a') });
    const local = join(await e2e.tempDir(), 'mirror');
    const logFile = join(local, '.gsync', 'cron.log');
    const result = await runGsync(['pull', '--quiet', '--log-file', logFile, `${e2e.sshd.alias}:${remote}`, local], { env: e2e.sshd.env });
    expect(result.code, result.stderr).toBe(0);
    expect((await stat(join(local, '.gsync'))).mode & 0o777).toBe(0o700);
    expect((await stat(logFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(logFile, 'utf8')).toMatch(/Z a\.txt\n.*Z 1 file transferred/);
    expect(await readTree(local)).toStrictEqual(await readTree(remote));
  });

  it('keeps the log file 0600 only when it makes it: an existing log keeps its mode', async () => {
    const remote = await e2e.remoteTree('oldlog', { 'a.txt': file('a') });
    const logFile = join(await e2e.tempDir(), 'existing.log');
    await writeFile(logFile, 'earlier line\n', { mode: 0o640 });
    const result = await runGsync(['pull', '--log-file', logFile, `${e2e.sshd.alias}:${remote}`, join(await e2e.tempDir(), 'm')], { env: e2e.sshd.env });
    expect(result.code, result.stderr).toBe(0);
    expect((await stat(logFile)).mode & 0o777).toBe(0o640);
    expect(await readFile(logFile, 'utf8')).toMatch(/^earlier line\n.*Z pulling /);
  });
});
