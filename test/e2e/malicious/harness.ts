import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { generateKeyPair } from '../../support/sshKeys.js';
import { makeTempDir, removeTempDir } from '../../support/tmp.js';
import { SERVED_ROOT, startHostileServer, type HostileServer, type ServerBehaviour } from './hostileServer.js';
import { runMeasured, RSS_LIMIT_KIB, type MeasuredRun } from './measuredRun.js';
import { ALIAS, canaryDifferences, clientUser, handOver, makeSandbox, mirrorRelative, snapshotCanary, type ClientKeys, type Sandbox } from './sandbox.js';
import { file, root, type DirNode, type Entry } from './vfs.js';

/** Served beside every scenario's hostile entries, last in the root listing: it must always arrive intact. */
export const OK_TXT = 'ok.txt';
export const OK_CONTENT = 'the rest of the tree still arrives\n';

/** Every run gets these unless it names the flag itself: a short stall limit, and one retry so a failing scenario fails fast. */
export const BASE_FLAGS: Readonly<Record<string, string>> = { '--timeout': '5', '--retries': '1' };

/** The run's own flags, preceded by each BASE_FLAGS pair it does not give (gsync takes each flag once). */
function withBaseFlags(flags: readonly string[]): string[] {
  const base = Object.entries(BASE_FLAGS).filter(([name]) => !flags.includes(name));
  return [...base.flat(), ...flags];
}

export interface Scenario {
  readonly title: string;
  readonly behaviour?: ServerBehaviour;
  /** Usually one; a later run sees the same mirror (a re-run). */
  readonly runs: readonly RunSpec[];
}

export interface RunSpec {
  /**
   * The root's hostile entries for this run (ok.txt is added). Omitted on a later run: the server
   * keeps serving the previous tree and remembers what was opened and listed.
   */
  readonly entries?: (box: Sandbox) => readonly Entry[];
  /** More flags; a flag of BASE_FLAGS given here replaces its default. */
  readonly flags?: readonly string[];
  /** Runs before the canary snapshot, e.g. to plant something in the mirror. */
  readonly before?: (box: Sandbox) => Promise<void>;
  readonly expect: RunExpectation;
}

export interface RunExpectation {
  /** The exit codes the contract allows ('non-zero': any failure code, as long as the run ends by itself). */
  readonly exit: readonly number[] | 'non-zero';
  /** Each must match stderr (multiline): the entries that must be reported. */
  readonly reported?: readonly RegExp[];
  /** Every path the mirror may hold afterwards besides ok.txt (relative, .gsync aside): nothing else may appear. */
  readonly exactly?: readonly string[];
  /** Mirror paths (relative) that must not exist, not even as a symlink. */
  readonly absent?: readonly string[];
  /** Mirror paths that must be regular files with exactly this content. */
  readonly arrives?: Readonly<Record<string, string | Buffer>>;
  /** Mirror paths that must be symlinks with exactly this target (the positive controls). */
  readonly links?: Readonly<Record<string, string>>;
  /** The run must end within this long (wall time, ms). */
  readonly withinMs?: number;
  /** false: ok.txt cannot arrive (nothing can be listed), so it is not required. */
  readonly okTxt?: boolean;
  /** The harness kills the run after this long (default 20 s): it did not end by itself. */
  readonly hardTimeoutMs?: number;
  /** Mirror paths where a special file is expected (planted by the test, not created by gsync). */
  readonly allowSpecial?: readonly string[];
  /** More checks: each returned line is a violation. */
  readonly check?: (run: RunContext) => Promise<string[]> | string[];
}

export interface RunContext {
  readonly box: Sandbox;
  readonly server: HostileServer;
  readonly result: MeasuredRun;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The keys a test file's scenarios share, made once in beforeAll: the client's key pair and the
 * hostile server's host key. Call at the top level of a test file; read the result in tests.
 */
export function suiteKeys(): () => ClientKeys {
  let dir: string | undefined;
  let keys: ClientKeys | undefined;
  beforeAll(async () => {
    dir = await makeTempDir('gsync-e2e-mal-keys-');
    // The client's key has a passphrase (answered through SSH_ASKPASS), so every run can be checked for it too.
    const passphrase = `pass-${randomBytes(12).toString('hex')}`;
    const [hostKeyLine, publicKeyLine] = await Promise.all([generateKeyPair(join(dir, 'host')), generateKeyPair(join(dir, 'client'), { passphrase })]);
    keys = { identityPath: join(dir, 'client'), passphrase, publicKeyLine, hostKey: await readFile(join(dir, 'host')), hostKeyLine };
  });
  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });
  return () => {
    if (!keys) throw new Error('suiteKeys: the keys are made in beforeAll; read them in tests');
    return keys;
  };
}

/** A scenario with one run. */
export function oneRun(title: string, entries: (box: Sandbox) => readonly Entry[], expectation: RunExpectation, extra: { flags?: readonly string[]; behaviour?: ServerBehaviour } = {}): Scenario {
  return {
    title,
    ...(extra.behaviour ? { behaviour: extra.behaviour } : {}),
    runs: [{ entries, ...(extra.flags ? { flags: extra.flags } : {}), expect: expectation }],
  };
}

const DEFAULT_HARD_TIMEOUT_MS = 20_000;

/**
 * Runs a scenario: a hostile server serving its tree, a sandbox around the destination, then
 * for each run: snapshot the canary, pull, and check everything the contract says. All
 * violations of all runs are gathered and reported together, each saying what went wrong where.
 */
export async function runScenario(scenario: Scenario, keys: ClientKeys): Promise<void> {
  if (!scenario.runs[0]?.entries) throw new Error(`scenario ${scenario.title}: the first run must say what is served`);
  // The sandbox needs the server's port and the tree may need the sandbox's paths: the server
  // starts empty and each run's tree is served once the sandbox exists.
  const server = await startHostileServer({
    hostKey: keys.hostKey,
    clientPublicKey: keys.publicKeyLine,
    user: clientUser(),
    tree: root([]),
    ...(scenario.behaviour ? { behaviour: scenario.behaviour } : {}),
  });
  let box: Sandbox | undefined;
  try {
    box = await makeSandbox(keys, server.port);
    const reports: string[] = [];
    for (const [index, run] of scenario.runs.entries()) {
      if (run.entries) server.serve(treeOf(run.entries(box)));
      if (run.before) {
        await run.before(box);
        await handOver(box);
      }
      const report = await checkedRun(box, server, run, `run ${index + 1} of ${scenario.runs.length}`);
      if (report) reports.push(report);
    }
    if (reports.length > 0) expect.fail(`${scenario.title}\n${reports.join('\n')}`);
  } finally {
    await server.close();
    if (box) await removeTempDir(box.base);
  }
}

function treeOf(entries: readonly Entry[]): DirNode {
  return root([...entries, file(OK_TXT, OK_CONTENT)]);
}

async function checkedRun(box: Sandbox, server: HostileServer, run: RunSpec, label: string): Promise<string | undefined> {
  const expectation = run.expect;
  const before = await snapshotCanary(box);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: box.home, TMPDIR: box.tmp };
  delete env['SSH_AUTH_SOCK'];
  env['SSH_ASKPASS'] = box.askpassPath;
  env['SSH_ASKPASS_REQUIRE'] = 'force';
  delete env['SSH_AGENT_PID'];
  // Every run keeps a log where gsync cron keeps one: it is checked for escapes and secrets like the output.
  const logFile = join(box.mirror, '.gsync', 'run.log');
  const args = ['pull', `${ALIAS}:${SERVED_ROOT}`, box.mirror, ...withBaseFlags(run.flags ?? []), '--log-file', logFile];
  const result = await runMeasured(box, args, { env, cwd: box.parent, hardTimeoutMs: expectation.hardTimeoutMs ?? DEFAULT_HARD_TIMEOUT_MS });
  const stdout = result.stdout.toString('utf8');
  const stderr = result.stderr.toString('utf8');
  const context: RunContext = { box, server, result, stdout, stderr };

  const violations = [
    ...endedAsDocumented(result, expectation),
    ...rawControlBytes('stdout', result.stdout),
    ...rawControlBytes('stderr', result.stderr),
    ...rawControlBytes('the log file', await readFile(logFile).catch(() => Buffer.alloc(0))),
    ...(/^\s+at .+:\d+:\d+\)?$/m.test(stderr) ? ['stderr holds a stack trace: gsync crashed instead of reporting'] : []),
    ...canaryDifferences(before, await snapshotCanary(box)),
    ...(await mirrorViolations(box, expectation)),
    ...(expectation.okTxt === false ? [] : await fileArrived(box, OK_TXT, OK_CONTENT)),
    ...(await Promise.all(Object.entries(expectation.arrives ?? {}).map(([path, content]) => fileArrived(box, path, content)))).flat(),
    ...(await Promise.all(Object.entries(expectation.links ?? {}).map(([path, target]) => linkArrived(box, path, target)))).flat(),
    ...(await Promise.all((expectation.absent ?? []).map((path) => absent(box, path)))).flat(),
    ...(expectation.reported ?? []).filter((pattern) => !pattern.test(stderr)).map((pattern) => `not reported: no stderr line matches ${pattern}`),
    ...(await secretsLeaked(box, result)),
    ...((await expectation.check?.(context)) ?? []),
  ];
  if (violations.length === 0) return undefined;
  return [
    `${label}: ${describeEnd(result)}; gsync ${args.map(shellQuote).join(' ')}`,
    ...violations.map((line) => `  ✗ ${line}`),
    `  stderr: ${tail(stderr)}`,
    `  stdout: ${tail(stdout)}`,
  ].join('\n');
}

function describeEnd(result: MeasuredRun): string {
  const how = result.timedOut
    ? `killed by the harness (did not end by itself; its threads then waited in: ${result.waitsAtKill || 'unknown'})`
    : result.rssKilled
      ? 'killed by the harness (RSS past 1 GiB)'
      : result.signal
        ? `ended by ${result.signal}`
        : `exit ${result.code}`;
  const rss = result.peakRssKiB === undefined ? 'peak RSS unknown' : `peak RSS ${Math.round(result.peakRssKiB / 1024)} MiB`;
  return `${how} after ${(result.elapsedMs / 1000).toFixed(1)} s, ${rss}`;
}

function endedAsDocumented(result: MeasuredRun, expectation: RunExpectation): string[] {
  const lines: string[] = [];
  if (result.timedOut) lines.push(`did not end by itself: killed after ${(result.elapsedMs / 1000).toFixed(1)} s`);
  else if (result.rssKilled) lines.push(`peak RSS passed 1 GiB: killed by the harness at ${Math.round((result.peakRssKiB ?? 0) / 1024)} MiB`);
  else if (result.signal) lines.push(`ended by signal ${result.signal}`);
  else if (!exitAllowed(result.code, expectation.exit)) lines.push(`exit code ${result.code}, expected ${expectation.exit === 'non-zero' ? 'a non-zero code' : expectation.exit.join(' or ')}`);
  if (!result.rssKilled && result.peakRssKiB !== undefined && result.peakRssKiB >= RSS_LIMIT_KIB) {
    lines.push(`peak RSS ${Math.round(result.peakRssKiB / 1024)} MiB, limit 1024 MiB`);
  }
  if (expectation.withinMs !== undefined && !result.timedOut && result.elapsedMs > expectation.withinMs) {
    lines.push(`took ${(result.elapsedMs / 1000).toFixed(1)} s, expected at most ${expectation.withinMs / 1000} s`);
  }
  return lines;
}

function exitAllowed(code: number | null, allowed: RunExpectation['exit']): boolean {
  if (code === null) return false;
  return allowed === 'non-zero' ? code !== 0 : allowed.includes(code);
}

/** C0 controls other than \n and \t, DEL, and C1 controls (UTF-8 encoded): bytes a terminal obeys. */
function rawControlBytes(stream: string, bytes: Buffer): string[] {
  const found: string[] = [];
  for (let i = 0; i < bytes.length && found.length < 5; i++) {
    const b = bytes[i] as number;
    const c1 = b === 0xc2 && (bytes[i + 1] ?? 0) >= 0x80 && (bytes[i + 1] ?? 0) <= 0x9f;
    if ((b < 0x20 && b !== 0x0a && b !== 0x09) || b === 0x7f || c1) {
      const code = c1 ? `U+00${(bytes[i + 1] as number).toString(16)}` : `0x${b.toString(16).padStart(2, '0')}`;
      const context = JSON.stringify(bytes.subarray(Math.max(0, i - 30), i + 30).toString('utf8'));
      found.push(`raw control byte ${code} in ${stream} at offset ${i}: ${context}`);
    }
  }
  return found;
}

/** Walks the mirror without following anything (the root's .gsync aside, checked on its own). */
async function walkMirror(box: Sandbox): Promise<{ entries: Array<{ path: string; stats: Stats }>; problems: string[] }> {
  const entries: Array<{ path: string; stats: Stats }> = [];
  const problems: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      problems.push(`cannot read mirror directory ${mirrorRelative(box, dir) || '.'} to check it: ${(error as NodeJS.ErrnoException).code}`);
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (dir === box.mirror && name === '.gsync') continue;
      const stats = await lstat(path);
      entries.push({ path, stats });
      if (stats.isDirectory()) await walk(path);
    }
  };
  await walk(box.mirror);
  return { entries, problems };
}

async function mirrorViolations(box: Sandbox, expectation: RunExpectation): Promise<string[]> {
  const { entries, problems } = await walkMirror(box);
  const root = await realpath(box.mirror);
  const lines = [...problems];
  if (expectation.exactly) {
    const allowed = new Set([OK_TXT, ...expectation.exactly]);
    const extra = entries.map((e) => mirrorRelative(box, e.path)).filter((rel) => !allowed.has(rel));
    if (extra.length > 0) lines.push(`unexpected entries in the mirror: ${extra.map((rel) => JSON.stringify(rel)).join(', ')}`);
  }
  for (const { path, stats } of entries) {
    const rel = mirrorRelative(box, path);
    const mode = `0${(stats.mode & 0o7777).toString(8)}`;
    if (!stats.isFile() && !stats.isDirectory() && !stats.isSymbolicLink()) {
      if (!expectation.allowSpecial?.includes(rel)) lines.push(`special file in the mirror: ${JSON.stringify(rel)} (${specialKind(stats)})`);
      continue;
    }
    if (stats.isSymbolicLink()) {
      const escape = await symlinkEscape(root, path);
      if (escape) lines.push(`symlink in the mirror leads outside it: ${JSON.stringify(rel)} -> ${JSON.stringify(await readlink(path))} resolves to ${escape}`);
      continue;
    }
    if ((stats.mode & 0o7000) !== 0) lines.push(`setuid/setgid/sticky bit in the mirror: ${JSON.stringify(rel)} mode ${mode}`);
    if ((stats.mode & 0o002) !== 0) lines.push(`world-writable entry in the mirror: ${JSON.stringify(rel)} mode ${mode}`);
  }
  const state = await lstat(join(box.mirror, '.gsync')).catch(() => undefined);
  if (state && !state.isDirectory()) lines.push(`the state dir .gsync is not a directory`);
  if (state && (state.mode & 0o077) !== 0) lines.push(`the state dir .gsync is mode 0${(state.mode & 0o777).toString(8)}, not private (0700)`);
  return lines;
}

function specialKind(stats: Stats): string {
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'unknown kind';
}

const inside = (root: string, path: string): boolean => path === root || path.startsWith(`${root}${sep}`);

/**
 * Follows a symlink hop by hop as the kernel would, symlinks along the way included (a chain),
 * and returns where it ends up if that is outside `root`; undefined if inside. Dangling is
 * followed too: past the first missing component the walk goes on lexically, so a link to a
 * missing file outside counts as outside.
 */
async function symlinkEscape(root: string, link: string): Promise<string | undefined> {
  let path = dirname(link).split(sep).filter(Boolean);
  const queue: string[] = [];
  const follow = (target: string): void => {
    if (isAbsolute(target)) path = [];
    queue.unshift(...target.split('/').filter((part) => part !== '' && part !== '.'));
  };
  follow(await readlink(link));
  let hops = 40;
  let missing = false;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '..') path.pop();
    else path.push(part);
    if (missing) continue;
    const here = `/${path.join('/')}`;
    const stats = await lstat(here).catch(() => undefined);
    if (!stats) {
      missing = true;
      continue;
    }
    if (stats.isSymbolicLink()) {
      if (--hops === 0) return undefined; // a loop leads nowhere at all
      path.pop();
      follow(await readlink(here));
    }
  }
  const end = `/${path.join('/')}`;
  return inside(root, end) ? undefined : end;
}

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex').slice(0, 16);

async function fileArrived(box: Sandbox, rel: string, content: string | Buffer): Promise<string[]> {
  const path = join(box.mirror, rel);
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return [`${JSON.stringify(rel)} did not arrive`];
  if (!stats.isFile()) return [`${JSON.stringify(rel)} arrived as something other than a regular file`];
  const got = await readFile(path).catch((error: NodeJS.ErrnoException) => error);
  if (got instanceof Error) return [`${JSON.stringify(rel)} arrived but cannot be read to check it: ${got.code}`];
  const want = Buffer.from(content);
  if (!got.equals(want)) return [`${JSON.stringify(rel)} arrived damaged: ${got.length} bytes (sha ${sha(got)}), expected ${want.length} (sha ${sha(want)})`];
  return [];
}

async function linkArrived(box: Sandbox, rel: string, target: string): Promise<string[]> {
  const path = join(box.mirror, rel);
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return [`symlink ${JSON.stringify(rel)} -> ${JSON.stringify(target)} (inside the mirror) was not created`];
  if (!stats.isSymbolicLink()) return [`${JSON.stringify(rel)} should be a symlink -> ${JSON.stringify(target)}, is not one`];
  const got = await readlink(path);
  return got === target ? [] : [`symlink ${JSON.stringify(rel)} points to ${JSON.stringify(got)}, expected ${JSON.stringify(target)}`];
}

async function absent(box: Sandbox, rel: string): Promise<string[]> {
  const stats = await lstat(join(box.mirror, rel)).catch(() => undefined);
  if (!stats) return [];
  const what = stats.isSymbolicLink() ? `a symlink -> ${JSON.stringify(await readlink(join(box.mirror, rel)))}` : stats.isDirectory() ? 'a directory' : `${stats.size} bytes`;
  return [`${JSON.stringify(rel)} must not exist in the mirror, found ${what}`];
}

/** No run may echo the client's private key or its passphrase: not its output, not its log, not anything it leaves in .gsync. */
async function secretsLeaked(box: Sandbox, result: MeasuredRun): Promise<string[]> {
  const key = await readFile(box.identityPath, 'utf8');
  const body = key.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
  const places: Array<[string, string]> = [
    ['stdout', result.stdout.toString('latin1')],
    ['stderr', result.stderr.toString('latin1')],
  ];
  const stateDir = join(box.mirror, '.gsync');
  const files = (await readdir(stateDir, { recursive: true }).catch(() => [] as string[])).map((name) => join(stateDir, name));
  for (const path of files) {
    // Regular files only: a partial symlink may point at a FIFO, which a read would wait on forever.
    if (!(await lstat(path).catch(() => undefined))?.isFile()) continue;
    const data = await readFile(path).catch(() => undefined);
    if (data) places.push([mirrorRelative(box, path), data.toString('latin1')]);
  }
  return places.flatMap(([where, text]) => [
    ...(body.some((line) => text.includes(line)) ? [`private key material in ${where}`] : []),
    ...(text.includes(box.passphrase) ? [`the key's passphrase in ${where}`] : []),
  ]);
}

function tail(text: string): string {
  if (text.length === 0) return '(empty)';
  const lines = text.trimEnd().split('\n');
  const shown = lines.slice(-12).map((line) => JSON.stringify(line.length > 300 ? `${line.slice(0, 300)}…` : line));
  return `${lines.length > 12 ? `(last 12 of ${lines.length} lines) ` : ''}\n    ${shown.join('\n    ')}`;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A stderr line naming `text` as a path of its own: bounded by the line's edges, blanks, quotes,
 * a slash or a colon, so a one-letter name does not match inside a word.
 */
export function named(text: string): RegExp {
  return new RegExp(`^.*(?:^|[\\s'"/:])${escapeRegExp(text)}(?:[\\s'":/]|$).*$`, 'm');
}
