import { describe, it } from 'vitest';
import { END, entry, header } from '../../support/tarStream.js';
import { OK_CONTENT, OK_TXT, oneRun, runScenario, suiteKeys, type RunContext, type Scenario } from './harness.js';
import type { ServerBehaviour } from './hostileServer.js';
import { file } from './vfs.js';

/**
 * Issue 10's fast path, attacked: the server answers gsync's `tar -c ... -T -` with a stream of
 * its own making. Whatever it sends, nothing lands outside the mirror, no entry is made from a
 * tar header (no link, no absurd allocation), and every file still arrives with the bytes SFTP
 * serves: a stream that is not exactly what was asked for is dropped and SFTP copies the files.
 */

const keys = suiteKeys();
const PWNED = 'written by a hostile tar stream\n';
const A = 'the real a.txt, as SFTP serves it\n';
const B = 'the real b.txt\n';

/**
 * Every scenario serves these beside ok.txt, enough for gsync to think tar worth a process on
 * the server (tarLane.ts: minFiles); the tar answer is what changes.
 */
const CONTENTS: ReadonlyMap<string, string> = new Map([
  ['a.txt', A],
  ['b.txt', B],
  ...Array.from({ length: 70 }, (_, i): [string, string] => [`n${i}.txt`, `filler ${i}\n`]),
]);
const served = (): ReturnType<typeof file>[] => [...CONTENTS].map(([name, content]) => file(name, content));
const arrives = { ...Object.fromEntries(CONTENTS), [OK_TXT]: OK_CONTENT };

/** The run asked the server for tar: the fast path was tried, so the scenario tests something. */
function askedForTar(run: RunContext): string[] {
  return run.server.requests.some((r) => r.type === 'exec' && r.path.startsWith('tar ')) ? [] : ['gsync never ran tar on the server'];
}

/** A right-looking entry for each name asked, with `content` of the right size in place of the real bytes. */
function sameShape(names: readonly string[], content: (name: string) => Buffer): Buffer {
  return Buffer.concat([...names.map((name) => entry(name, content(name))), END]);
}

const realSize = (name: string): number => Buffer.byteLength(CONTENTS.get(name.slice(name.lastIndexOf('/') + 1)) ?? OK_CONTENT);
const lookalike = (name: string): Buffer => Buffer.alloc(realSize(name), 'X');

function tarScenario(title: string, tar: NonNullable<ServerBehaviour['tar']>): Scenario {
  return oneRun(title, () => served(), { exit: [0], arrives, exactly: [...CONTENTS.keys()], check: askedForTar }, { behaviour: { tar } });
}

const scenarios: Scenario[] = [
  tarScenario('entries named ../../ and absolute, outside the mirror, are refused; nothing is written there', (names) => ({
    stdout: Buffer.concat([entry('../../../../tmp/pwned', Buffer.from(PWNED)), entry('/etc/cron.d/pwned', Buffer.from(PWNED)), ...names.map((n) => entry(n, lookalike(n))), END]),
    exit: 0,
  })),
  tarScenario('a wanted name sent as a symlink (to /etc/passwd) or a hard link makes no link', (names) => ({
    stdout: Buffer.concat([
      header({ name: names[0] ?? '', size: 0, type: '2', linkName: '/etc/passwd' }),
      header({ name: names[1] ?? '', size: 0, type: '1', linkName: '/etc/shadow' }),
      END,
    ]),
    exit: 0,
  })),
  tarScenario('an absurd size (2^50 bytes) is not read through nor allocated', (names) => ({
    stdout: Buffer.concat([header({ name: names[0] ?? '', size: 2 ** 50 }), Buffer.alloc(64 * 1024, 'Z')]),
    exit: 0,
  })),
  tarScenario("the right names and sizes with other bytes, and tar's 'file changed' status: not kept", (names) => ({
    stdout: sameShape(names, lookalike),
    exit: 1,
  })),
  tarScenario('a stream cut off in the middle of a file, and no exit status: not kept', (names) => ({
    stdout: sameShape(names, lookalike).subarray(0, 700),
    exit: 0,
  })),
  tarScenario('no tar at all, just text (a shell that says no): SFTP copies everything', () => ({
    stdout: Buffer.from('sh: 1: tar: not found\n'),
    exit: 127,
  })),
];

describe('hostile tar streams', () => {
  for (const scenario of scenarios) it(scenario.title, () => runScenario(scenario, keys()));
});

