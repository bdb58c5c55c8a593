import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { pseudoRandomBytes } from '../../support/trees.js';
import { named, oneRun, runScenario, suiteKeys, type RunContext, type Scenario } from './harness.js';
import { DEFAULT_MTIME, dir, file, special, type Entry } from './vfs.js';

/**
 * Issue 8, contents, sizes, modes and times: a file that changes while read, a READ answered
 * with more (or nothing), sizes no disk holds, modes that would plant setuid binaries or lock
 * gsync out, times outside any calendar, entries that are no regular file.
 */

const keys = suiteKeys();
const KiB = 1024;
const MiB = 1024 * KiB;
/** gsync sends files from 8 MiB on in blocks, through another code path: each content scenario has one of each. */
const BIG = 9 * MiB;

/**
 * A file whose every OPEN finds another version: `step` bytes longer (or shorter, if negative)
 * and a second newer than the last. Versions are prefixes of one buffer, so a copy that is one
 * whole version is recognisable, and a torn one is not.
 */
function changing(name: string, initial: number, step: number): { entry: Entry; versions: (content: Buffer) => number | undefined } {
  const longest = initial + Math.max(0, step) * 200;
  const bytes = pseudoRandomBytes(`${name}-changing`, longest);
  const sizeAt = (opens: number): number => Math.max(1, initial + step * opens);
  const entry = file(name, bytes.subarray(0, initial), {
    reopen: (opens) => ({ content: bytes.subarray(0, sizeAt(opens)), mtime: DEFAULT_MTIME + opens }),
  });
  // The version a copy is, if it is one.
  const versions = (content: Buffer): number | undefined => {
    for (let opens = 0; opens <= 200; opens++) {
      if (sizeAt(opens) === content.length && bytes.subarray(0, content.length).equals(content)) return opens;
    }
    return undefined;
  };
  return { entry, versions };
}

/** A copy at `rel`, if there is one, must be one whole version: never torn, never padded. */
async function wholeOrAbsent(run: RunContext, rel: string, isVersion: (content: Buffer) => boolean): Promise<string[]> {
  const path = join(run.box.mirror, rel);
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined) return [];
  if (!stats.isFile()) return [`${JSON.stringify(rel)} is in the mirror as something other than a regular file`];
  const content = await readFile(path);
  if (isVersion(content)) return [];
  return [`${JSON.stringify(rel)} at its final path is torn: ${content.length} bytes that are no version the server ever served whole`];
}

const grow = changing('grow.bin', 100 * KiB, 64 * KiB);
const growBig = changing('grow-big.bin', BIG, 64 * KiB);
const shrink = changing('shrink.bin', 200 * KiB, -KiB);
const shrinkBig = changing('shrink-big.bin', BIG, -16 * KiB);

/** READ replies `extra` bytes longer than asked (the real bytes first). */
function fat(content: Buffer, offset: number, length: number): Buffer | 'eof' {
  if (offset >= content.length) return 'eof';
  const reply = Buffer.alloc(length + 512, 'X');
  content.copy(reply, 0, offset, offset + length);
  return reply;
}
const FAT = pseudoRandomBytes('fat.bin', 100 * KiB);
const FAT_BIG = pseudoRandomBytes('fat-big.bin', BIG);

const modeOfMirror = async (run: RunContext, rel: string): Promise<number | undefined> => {
  const stats = await lstat(join(run.box.mirror, rel)).catch(() => undefined);
  return stats === undefined ? undefined : stats.mode & 0o7777;
};

const octal = (mode: number | undefined): string => (mode === undefined ? 'missing' : `0${mode.toString(8).padStart(3, '0')}`);

const scenarios: Scenario[] = [
  oneRun(
    'files that grow on every read (a small one, a big one in blocks) never land torn; they are reported as changing, exit 24',
    () => [grow.entry, growBig.entry],
    {
      exit: [24],
      reported: [named('grow.bin'), named('grow-big.bin')],
      check: async (run) => [
        ...(await wholeOrAbsent(run, 'grow.bin', (c) => grow.versions(c) !== undefined)),
        ...(await wholeOrAbsent(run, 'grow-big.bin', (c) => growBig.versions(c) !== undefined)),
      ],
    },
  ),
  oneRun(
    'files that shrink on every read (a small one, a big one in blocks) never land torn; they are reported as changing, exit 24',
    () => [shrink.entry, shrinkBig.entry],
    {
      exit: [24],
      reported: [named('shrink.bin'), named('shrink-big.bin')],
      check: async (run) => [
        ...(await wholeOrAbsent(run, 'shrink.bin', (c) => shrink.versions(c) !== undefined)),
        ...(await wholeOrAbsent(run, 'shrink-big.bin', (c) => shrinkBig.versions(c) !== undefined)),
      ],
    },
  ),
  oneRun(
    'READ replies longer than asked (a small file, a big one in blocks) are a protocol error for each file: neither lands, exit 12',
    () => [file('fat.bin', FAT, { readReply: fat }), file('fat-big.bin', FAT_BIG, { readReply: fat })],
    { exit: [12], reported: [named('fat.bin'), named('fat-big.bin')], absent: ['fat.bin', 'fat-big.bin'] },
  ),
  oneRun(
    'files serving more bytes than their listing and FSTAT announce (a small one, a big one in blocks) are a protocol error for each: neither lands, exit 12',
    () => [
      file('more.bin', pseudoRandomBytes('more.bin', 100 * KiB), { announcedSize: 64 * KiB }),
      file('more-big.bin', pseudoRandomBytes('more-big.bin', BIG + MiB), { announcedSize: BIG }),
    ],
    { exit: [12], reported: [named('more.bin'), named('more-big.bin')], absent: ['more.bin', 'more-big.bin'] },
  ),
  oneRun(
    'READ answered with empty DATA again and again is an error for that file: the run ends by itself, the file never lands',
    () => [file('zero.bin', pseudoRandomBytes('zero.bin', 64 * KiB), { readReply: () => Buffer.alloc(0) })],
    { exit: [12, 23, 24], reported: [named('zero.bin')], absent: ['zero.bin'] },
  ),
  oneRun(
    'sizes of 2^52 (more than the free space), 2^53 and 2^62 are refused before any transfer (no OPEN, nothing allocated), exit 23 or 12',
    () => [
      file('huge52.bin', 'sixteen bytes..\n', { announcedSize: 2 ** 52 }),
      file('huge53.bin', 'sixteen bytes..\n', { announcedSize: 2 ** 53 }),
      file('huge62.bin', 'sixteen bytes..\n', { announcedSize: 2n ** 62n }),
    ],
    {
      exit: [23, 12],
      reported: [named('huge52.bin'), named('huge53.bin'), named('huge62.bin')],
      absent: ['huge52.bin', 'huge53.bin', 'huge62.bin'],
      check: ({ server }) =>
        server.requests.filter((r) => r.type === 'OPEN' && /huge\d+\.bin$/.test(r.path)).map((r) => `${r.path} was opened for reading: not refused before transfer`),
    },
  ),
  oneRun(
    'modes 04777, 02775, 0666, 0000 and a 01777 directory arrive with at most mode & 0777 & ~umask (022): no setuid, setgid, sticky or world-write',
    () => [
      file('suid.bin', '#!/bin/sh\necho owned\n', { perm: 0o4777 }),
      file('sgid.bin', 'setgid\n', { perm: 0o2775 }),
      file('world.txt', 'world-writable\n', { perm: 0o666 }),
      file('none.txt', 'no permissions\n', { perm: 0o000 }),
      dir('sticky', [file('f.txt', 'in a sticky dir\n')], { perm: 0o1777 }),
    ],
    {
      exit: [0],
      arrives: { 'suid.bin': '#!/bin/sh\necho owned\n', 'sgid.bin': 'setgid\n', 'world.txt': 'world-writable\n', 'none.txt': 'no permissions\n', 'sticky/f.txt': 'in a sticky dir\n' },
      check: async (run) => {
        // The most each may get: the remote's mode & 0777 & ~022.
        const most: Record<string, number> = { 'suid.bin': 0o755, 'sgid.bin': 0o755, 'world.txt': 0o644, 'none.txt': 0o000, sticky: 0o755 };
        const lines: string[] = [];
        for (const [rel, mode] of Object.entries(most)) {
          const got = await modeOfMirror(run, rel);
          if (got === undefined || (got & ~mode) !== 0) lines.push(`${rel} has mode ${octal(got)}, more than ${octal(mode)} (the remote's & 0777 & ~umask)`);
        }
        return lines;
      },
    },
  ),
  {
    title: 'a 000 directory (holding a 0500 one) does not lock gsync out: it gets mode 000 only after its contents are in place, and a re-run copes',
    runs: [1, 2].map(() => ({
      entries: () => [
        dir('locked', [file('inner.txt', 'inside a 000 dir\n'), dir('deeper', [file('x.txt', 'inside a 0500 dir\n')], { perm: 0o500 })], { perm: 0o000 }),
      ],
      expect: { exit: [0, 23], check: lockedDirPlaced },
    })),
  },
  oneRun(
    'mtimes at the ends of SFTP v3 (0xffffffff: 2106; 0x80000000: -2^31 read as signed; 0) on files and a directory never crash gsync',
    () => [
      file('future.txt', 'far future\n', { mtime: 0xffffffff }),
      file('negative.txt', 'negative if signed\n', { mtime: 0x80000000 }),
      file('epoch.txt', 'the epoch\n', { mtime: 0 }),
      dir('future-dir', [file('in.txt', 'in a far-future dir\n')], { mtime: 0xffffffff }),
    ],
    {
      exit: [0, 23],
      check: async (run) => {
        if (run.result.code !== 0) return [];
        const lines: string[] = [];
        for (const [rel, content] of Object.entries({ 'future.txt': 'far future\n', 'negative.txt': 'negative if signed\n', 'epoch.txt': 'the epoch\n', 'future-dir/in.txt': 'in a far-future dir\n' })) {
          const got = await readFile(join(run.box.mirror, rel), 'utf8').catch(() => undefined);
          if (got !== content) lines.push(`exit 0 but ${rel} ${got === undefined ? 'did not arrive' : 'arrived damaged'}`);
        }
        return lines;
      },
    },
  ),
  oneRun(
    'a FIFO, a socket, a character and a block device are never created locally; the rest arrives',
    () => [special('fifo', 'fifo'), special('socket', 'socket'), special('chardev', 'chardev', 0o666), special('blockdev', 'blockdev', 0o660), file('plain.txt', 'plain\n')],
    { exit: [0, 23], absent: ['fifo', 'socket', 'chardev', 'blockdev'], arrives: { 'plain.txt': 'plain\n' }, exactly: ['plain.txt'] },
  ),
];

/** Either the 000 directory is in place with everything under it, or it is reported. */
async function lockedDirPlaced(run: RunContext): Promise<string[]> {
  const lines: string[] = [];
  if (run.result.code !== 0) {
    if (!named('locked').test(run.stderr)) lines.push(`exit ${run.result.code} without a stderr line naming locked`);
    return lines;
  }
  const modes: Record<string, number> = { locked: 0o000, 'locked/deeper': 0o500 };
  for (const [rel, mode] of Object.entries(modes)) {
    const got = await modeOfMirror(run, rel);
    if (got !== mode) lines.push(`${rel} has mode ${octal(got)}, expected ${octal(mode)} once its contents are in place`);
  }
  for (const [rel, content] of Object.entries({ 'locked/inner.txt': 'inside a 000 dir\n', 'locked/deeper/x.txt': 'inside a 0500 dir\n' })) {
    const got = await readFile(join(run.box.mirror, rel), 'utf8').catch(() => undefined);
    if (got !== content) lines.push(`exit 0 but ${rel} ${got === undefined ? 'is not in place' : 'is damaged'}`);
  }
  return lines;
}

describe('hostile contents, sizes, modes and times', () => {
  for (const scenario of scenarios) it(scenario.title, () => runScenario(scenario, keys()));
});
