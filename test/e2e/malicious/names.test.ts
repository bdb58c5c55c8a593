import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { named, oneRun, runScenario, suiteKeys, type Scenario } from './harness.js';
import { dir, file } from './vfs.js';

/**
 * Issue 8, names: every READDIR name is untrusted. Each scenario serves one hostile name (a
 * regular file holding PWNED) beside ok.txt. A refused name is reported on stderr (escaped), the
 * rest arrives, exit 23; nothing outside the destination changes.
 */

const keys = suiteKeys();
const PWNED = 'written by a hostile server\n';
const ANSI_NAME = 'evil-ansi-\x1b[2J\x1b[1;31mred\x1b[0m\r\x07.txt';

/** A name gsync must refuse: reported (the line matching `report`), nothing but ok.txt in the mirror, exit 23. */
function refused(title: string, name: string | Buffer, report: RegExp): Scenario {
  return oneRun(title, () => [file(name, PWNED)], { exit: [23], reported: [report], exactly: [] });
}

const scenarios: Scenario[] = [
  // ssh2 drops '.' and '..' from every listing before gsync sees it; what matters is that a
  // *file* by that name can never overwrite the destination or its parent.
  oneRun("a regular file named '..' never overwrites the destination's parent", () => [file('..', PWNED)], { exit: [0, 23], exactly: [] }),
  oneRun("a regular file named '.' never overwrites the destination itself", () => [file('.', PWNED)], { exit: [0, 23], exactly: [] }),
  refused("a name '../x' is refused and reported", '../x', named('../x')),
  refused("a name 'a/b' is refused and reported", 'a/b', named('a/b')),
  {
    title: 'an absolute name (/…/outside/parent/abs-pwned.txt) is refused and reported',
    runs: [{ entries: (box) => [file(join(box.parent, 'abs-pwned.txt'), PWNED)], expect: { exit: [23], reported: [/abs-pwned\.txt/], exactly: [] } }],
  },
  refused('an empty name is refused and reported', '', /empty/i),
  refused('a name with NUL in it is refused and reported', 'evil-nul\0.txt', /evil-nul/),
  refused('a name that is not valid UTF-8 (0xff 0xfe, overlong "/" 0xc0 0xaf) is refused and reported', Buffer.concat([Buffer.from('evil-utf8-'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('.txt')]), /evil-utf8-/),
  oneRun(
    'a 5,000-byte name is refused, and reported with the name capped',
    () => [file('L'.repeat(5000), PWNED)],
    {
      exit: [23],
      reported: [/LLLLLLLLLLLLLLLLLLLL/],
      exactly: [],
      check: ({ stdout, stderr }) => (`${stdout}${stderr}`.includes('L'.repeat(1000)) ? ['the 5,000-byte name reached the output uncapped (1,000+ bytes of it in one piece)'] : []),
    },
  ),
  oneRun(
    'a name full of ANSI escapes, CR and BEL arrives under its exact bytes or is refused, and never reaches the terminal raw (-v)',
    () => [file(ANSI_NAME, PWNED)],
    {
      exit: [0, 23],
      check: async ({ box, result, stderr }) => {
        const names = await readdir(box.mirror);
        const arrived = names.includes(ANSI_NAME);
        if (result.code === 0) {
          if (!arrived) return [`exit 0 but ${JSON.stringify(ANSI_NAME)} is not in the mirror (found ${JSON.stringify(names)})`];
          const content = await readFile(join(box.mirror, ANSI_NAME), 'utf8');
          return content === PWNED ? [] : [`${JSON.stringify(ANSI_NAME)} arrived with other content`];
        }
        const lines: string[] = [];
        if (arrived) lines.push(`exit ${result.code} but ${JSON.stringify(ANSI_NAME)} is in the mirror`);
        if (!/evil-ansi/.test(stderr)) lines.push('refused without a stderr line naming evil-ansi…');
        return lines;
      },
    },
    { flags: ['--verbose'] },
  ),
  oneRun(
    "fullwidth '．．' and '．．／etc' are ordinary names: they arrive as files of exactly those names",
    () => [file('．．', 'fullwidth dots\n'), file('．．／etc', 'fullwidth dots and solidus\n')],
    { exit: [0], arrives: { '．．': 'fullwidth dots\n', '．．／etc': 'fullwidth dots and solidus\n' }, exactly: ['．．', '．．／etc'] },
  ),
  oneRun(
    'duplicate names in one listing: neither copy is trusted, both are reported',
    () => [file('dup.txt', 'first copy\n'), file('dup.txt', 'second, longer copy\n'), file('dup-kind', 'a file\n'), dir('dup-kind', [file('inner.txt', PWNED)])],
    { exit: [23], reported: [named('dup.txt'), named('dup-kind')], exactly: [] },
  ),
  oneRun(
    "a '.gsync' entry at the remote root is refused: it cannot reach gsync's own state",
    () => [dir('.gsync', [file('state.db', PWNED), dir('partial', [file('1-1', PWNED)])])],
    {
      exit: [23],
      reported: [named('.gsync')],
      exactly: [],
      check: async ({ box }) => {
        const lines: string[] = [];
        for (const rel of ['.gsync/state.db', '.gsync/partial/1-1']) {
          const content = await readFile(join(box.mirror, rel), 'utf8').catch(() => undefined);
          if (content === PWNED) lines.push(`the server's ${rel} landed in gsync's state dir`);
        }
        const state = await lstat(join(box.mirror, '.gsync', 'state.db')).catch(() => undefined);
        if (!state?.isFile()) lines.push('.gsync/state.db is missing or not a file after the run');
        return lines;
      },
    },
  ),
  oneRun(
    'server error text (escapes, CR, BEL) on a refused file and a refused directory is reported escaped',
    () => [file('denied.txt', PWNED, { refuseOpen: true }), dir('denied-dir', [file('inner.txt', PWNED)], { refuseOpendir: true })],
    { exit: [23], reported: [named('denied.txt'), named('denied-dir')], exactly: ['denied-dir'] },
  ),
];

describe('hostile names', () => {
  for (const scenario of scenarios) it(scenario.title, () => runScenario(scenario, keys()));
});
