import { describe, it } from 'vitest';
import { named, OK_CONTENT, OK_TXT, oneRun, runScenario, suiteKeys, type RunContext, type RunExpectation, type Scenario } from './harness.js';
import { SERVED_ROOT, type ExecAnswer } from './hostileServer.js';
import { DEFAULT_MTIME, dir, file } from './vfs.js';

/**
 * Issue 10's one-stream listing, attacked: the server answers gsync's `xargs -0 … find …` with a
 * listing of its own making. A stream that is not a whole, well-formed listing is dropped for
 * SFTP's (nothing of it is used, so no directory is walked on a part of one); a well-formed one
 * is held to the same name checks as an SFTP listing; nothing lands outside the mirror.
 */

const keys = suiteKeys();
const A = 'the real sub/a.txt\n';
const B = 'the real sub/b.txt\n';
const TOP = 'the real top.txt\n';

const served = (): ReturnType<typeof file>[] => [dir('sub', [file('a.txt', A), file('b.txt', B)]), file('top.txt', TOP)];
const arrives = { 'sub/a.txt': A, 'sub/b.txt': B, 'top.txt': TOP, [OK_TXT]: OK_CONTENT };
const everything = ['sub', 'sub/a.txt', 'sub/b.txt', 'top.txt'];

/** One record as GNU find's -printf writes it for TREE_COMMAND. */
const record = (type: string, mode: string, size: number, path: string, target = ''): string => `${type} ${mode} ${size} ${DEFAULT_MTIME}.0000000000 ${path}\0${target}\0`;

/** What find would say of the served tree, in its order (a directory before what it holds). */
const HONEST = [
  record('d', '755', 4096, 'sub'),
  record('f', '644', A.length, 'sub/a.txt'),
  record('f', '644', B.length, 'sub/b.txt'),
  record('f', '644', TOP.length, 'top.txt'),
  record('f', '644', OK_CONTENT.length, OK_TXT),
].join('');

const answer = (text: string, exit = 0): ExecAnswer => ({ stdout: Buffer.from(text), exit });

/** gsync asked for the tree and listed `sub` by SFTP (or did not): which listing the walk went by. */
function listedSubBySftp(expected: boolean): (run: RunContext) => string[] {
  return (run) => {
    const violations: string[] = [];
    if (!run.server.requests.some((r) => r.type === 'exec' && r.path.startsWith('xargs '))) violations.push('gsync never asked for the tree listing');
    const bySftp = run.server.requests.some((r) => r.type === 'OPENDIR' && r.path === `${SERVED_ROOT}/sub`);
    if (bySftp !== expected) violations.push(expected ? 'sub was not listed by SFTP: a refused stream was used' : 'sub was listed by SFTP: the whole stream was not used');
    return violations;
  };
}

/** The stream must be dropped: everything arrives exactly as SFTP serves it. */
function dropped(title: string, tree: (root: string) => ExecAnswer): Scenario {
  return oneRun(title, () => served(), { exit: [0], arrives, exactly: everything, check: listedSubBySftp(true) }, { behaviour: { tree } });
}

function used(title: string, tree: (root: string) => ExecAnswer, expectation: Omit<RunExpectation, 'check'>): Scenario {
  return oneRun(title, () => served(), { ...expectation, check: listedSubBySftp(false) }, { behaviour: { tree } });
}

const scenarios: Scenario[] = [
  used('a whole, well-formed listing is used: no directory is listed again by SFTP (the control)', (root) => answer(root === SERVED_ROOT ? HONEST : ''), { exit: [0], arrives, exactly: everything }),
  used(
    // Under sub: the root's own listing comes by SFTP with its STAT, before the stream.
    "names '..' and one not valid UTF-8 in a well-formed listing are refused and reported, as in an SFTP listing",
    () => answer(HONEST + record('f', '644', 5, 'sub/..') + record('f', '644', 5, 'sub/bad\uFFFDname')),
    { exit: [23], arrives, exactly: everything, reported: [named('sub/..'), /sub\/bad.name: refused remote name: name is not valid UTF-8/] },
  ),
  dropped('entries under ../ and absolute paths: the stream is dropped, nothing is written outside the mirror', () =>
    answer(HONEST + record('f', '644', 5, '../../../tmp/pwned') + record('f', '644', 5, '/etc/cron.d/pwned')),
  ),
  dropped('an entry before its directory: dropped', () => answer(record('f', '644', A.length, 'sub/a.txt') + HONEST)),
  dropped('a listing cut off in the middle of a record: dropped', () => answer(HONEST.slice(0, HONEST.length - 9))),
  dropped("a whole listing with find's failure status (a directory it could not read): dropped", () => answer(HONEST, 1)),
  dropped('text instead of a listing (no GNU find): dropped', () => answer('find: unknown predicate `-printf\'\n', 1)),
  dropped('a listing that stops mid-stream and never ends: cut off after --timeout, then dropped', () => ({ ...answer(HONEST.slice(0, 40)), stall: true })),
  dropped('more entries than one stream may hold: dropped', () =>
    answer(HONEST + Array.from({ length: 100_001 }, (_, i) => record('f', '644', 1, `sub/extra-${i}`)).join('')),
  ),
];

describe('hostile tree listings', () => {
  for (const scenario of scenarios) it(scenario.title, () => runScenario(scenario, keys()));
});
