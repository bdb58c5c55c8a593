import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kindOfMode } from '../../src/core/modes.js';
import type { RemoteEntry } from '../../src/core/types.js';
import { defaultListingBounds } from '../../src/remote/scan.js';
import { BrokenTree, TREE_COMMAND, TreeParser, type RemoteTree } from '../../src/remote/treeListing.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('gsync-tree-');
});
afterEach(() => removeTempDir(dir));

/** TREE_COMMAND as a server's shell runs it, the root on its stdin. */
function runCommand(root: string, cwd = dir): { stdout: Buffer; status: number | null } {
  const result = spawnSync('/bin/sh', ['-c', TREE_COMMAND], { cwd, input: `${root.startsWith('-') ? './' : ''}${root}\0` });
  return { stdout: result.stdout, status: result.status };
}

function parse(text: string | Buffer, chunk = 7): RemoteTree {
  const parser = new TreeParser(defaultListingBounds);
  const all = typeof text === 'string' ? text : text.toString('utf8');
  // In small pieces: records split across chunks must come out whole.
  for (let i = 0; i < all.length; i += chunk) parser.push(all.slice(i, i + chunk));
  return parser.end();
}

/** What an lstat of each entry says, as a listing would: the reference the stream must match. */
function listedLocally(path: string): RemoteEntry[] {
  return readdirSync(path)
    .sort()
    .map((name) => {
      const st = lstatSync(join(path, name));
      const kind = kindOfMode(st.mode);
      const entry = { name, kind, size: kind === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000), mode: st.mode & 0o7777 };
      return kind === 'symlink' ? { ...entry, linkTarget: (spawnSync('readlink', [join(path, name)]).stdout.toString().replace(/\n$/, '')) } : entry;
    })
    .filter((e) => e.name !== '.gsync');
}

const record = (type: string, mode: string, size: number | string, mtime: string, path: string, target = ''): string => `${type} ${mode} ${size} ${mtime} ${path}\0${target}\0`;

describe('the tree listed in one stream', () => {
  it('lists every directory as an lstat of it would, odd names, modes, symlinks and empty directories included', () => {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, 'plain.txt'), 'hello');
    writeFileSync(join(root, 'with space and \'quote\'.txt'), 'x');
    writeFileSync(join(root, 'new\nline'), 'two\nlines');
    writeFileSync(join(root, 'sub', 'ünïcode-名前'), 'u');
    writeFileSync(join(root, 'sub', 'deeper', 'setuid'), '#!/bin/sh\n');
    chmodSync(join(root, 'sub', 'deeper', 'setuid'), 0o4755);
    chmodSync(join(root, 'sub'), 0o750);
    symlinkSync('../plain.txt', join(root, 'sub', 'link'));
    utimesSync(join(root, 'plain.txt'), 1_600_000_000.7, 1_600_000_000.7);
    const { stdout, status } = runCommand(root);
    expect(status).toBe(0);
    const tree = parse(stdout);
    for (const path of ['', 'sub', 'sub/deeper', 'empty']) {
      const listing = tree.take(path === '' ? '' : path);
      expect(listing?.problems).toStrictEqual([]);
      expect(listing?.entries).toStrictEqual(listedLocally(path === '' ? root : join(root, path)));
    }
    expect(tree.take('plain.txt')).toBeUndefined();
  });

  it('takes a root given relative to where the command runs, one starting with "-", and one that is a symlink to a directory', () => {
    mkdirSync(join(dir, '-dash'));
    writeFileSync(join(dir, '-dash', 'a'), 'a');
    symlinkSync('-dash', join(dir, 'alias'));
    for (const root of ['-dash', 'alias']) {
      const { stdout, status } = runCommand(root);
      expect(status).toBe(0);
      expect(parse(stdout).take('')?.entries.map((e) => e.name)).toStrictEqual(['a']);
    }
  });

  it('exits non-zero where find cannot list all: a missing root, a directory it cannot read (not as root, who reads all)', () => {
    expect(runCommand(join(dir, 'missing')).status).not.toBe(0);
    if (process.getuid?.() === 0) return;
    mkdirSync(join(dir, 'root', 'shut'), { recursive: true });
    chmodSync(join(dir, 'root', 'shut'), 0);
    const { status } = runCommand(join(dir, 'root'));
    chmodSync(join(dir, 'root', 'shut'), 0o700);
    expect(status).not.toBe(0);
  });

  it('refuses unsafe names as an SFTP listing does, and drops what a refused directory holds', () => {
    const tree = parse(
      [
        record('f', '644', 3, '1600000000.5', 'ok'),
        record('d', '755', 4096, '1600000000', '.gsync'),
        record('f', '644', 3, '1600000000', '.gsync/state.db'),
        record('d', '755', 4096, '1600000000', 'bad\uFFFDdir'),
        record('f', '644', 3, '1600000000', 'bad\uFFFDdir/inside'),
        record('f', '644', '99999999999999999999', '1600000000', 'huge'),
        record('f', '644', 3, '-1', 'old'),
      ].join(''),
    );
    const rootListing = tree.take('');
    expect(rootListing?.entries).toStrictEqual([
      { name: 'ok', kind: 'file', size: 3, mtime: 1_600_000_000, mode: 0o644 },
      // As OpenSSH's server sends it: an unsigned 32-bit st_mtime.
      { name: 'old', kind: 'file', size: 3, mtime: 2 ** 32 - 1, mode: 0o644 },
    ]);
    expect(rootListing?.problems.map((p) => [p.path, p.code])).toStrictEqual([
      ['.gsync', 'unsafe-name'],
      ['bad\uFFFDdir', 'unsafe-name'],
      ['huge', 'too-large'],
    ]);
    expect(tree.take('.gsync')).toBeUndefined();
  });

  it('refuses both entries of a name listed twice', () => {
    const tree = parse(record('f', '644', 1, '1', 'twice') + record('d', '755', 0, '1', 'twice') + record('f', '644', 1, '1', 'other'));
    const listing = tree.take('');
    expect(listing?.entries.map((e) => e.name)).toStrictEqual(['other']);
    expect(listing?.problems.map((p) => p.message)).toStrictEqual(['refused remote name: listed 2 times in one directory']);
  });

  const broken: ReadonlyArray<[string, string]> = [
    ['an entry before its directory', record('f', '644', 1, '1', 'nowhere/file')],
    ['a path with an empty name', record('d', '755', 0, '1', 'a') + record('f', '644', 1, '1', 'a/')],
    ['an absolute path', record('f', '644', 1, '1', '/etc/passwd')],
    ['a header that is not one', 'garbage\0\0'],
    ['a mode that is not permission bits', record('f', '170644', 1, '1', 'x')],
    ['a record cut short', `${record('f', '644', 1, '1', 'a')}f 644 1 1 b`],
    ['a record without its target field', 'f 644 1 1 b\0'],
  ];
  for (const [what, text] of broken) {
    it(`refuses the whole stream for ${what}`, () => {
      expect(() => parse(text)).toThrow(BrokenTree);
    });
  }

  it('refuses the whole stream past its bounds: a directory too large, too many entries, a record longer than any path', () => {
    const many = Array.from({ length: 5 }, (_, i) => record('f', '644', 1, '1', `f${i}`)).join('');
    expect(() => new TreeParser({ maxEntries: 4 }).push(many)).toThrow(BrokenTree);
    expect(() => new TreeParser(defaultListingBounds, 4).push(many)).toThrow(BrokenTree);
    expect(() => new TreeParser(defaultListingBounds).push('f 644 1 1 '.padEnd(70_000, 'x'))).toThrow(BrokenTree);
  });
});
