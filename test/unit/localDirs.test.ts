import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalDirs } from '../../src/local/localDirs.js';
import { Destination } from '../../src/local/paths.js';

let parent: string;
let root: string;
let outside: string;
beforeEach(() => {
  parent = mkdtempSync(join(tmpdir(), 'gsync-localdirs-'));
  root = join(parent, 'mirror');
  outside = join(parent, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
});
afterEach(() => {
  rmSync(parent, { recursive: true, force: true });
});

/** Puts a symlink to `outside` where mirror/sub stood, keeping the real directory as sub.moved. */
function swapSubForSymlink(): void {
  renameSync(join(root, 'sub'), join(parent, 'sub.moved'));
  symlinkSync(outside, join(root, 'sub'));
}

describe('renames go through the directory the walk checked, never through a path swapped since', () => {
  it('a symlink swapped in after the check: the rename still lands in the checked directory, nothing outside', async () => {
    const dirs = new LocalDirs(new Destination(root));
    await dirs.verify('sub');
    const held = await dirs.hold(['sub']);
    try {
      swapSubForSymlink();
      writeFileSync(join(parent, 'ready'), 'x');
      await rename(join(parent, 'ready'), held.pathOf('sub/a.txt'));
      await held.sync('sub');
    } finally {
      await held.close();
    }
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(join(parent, 'sub.moved'))).toEqual(['a.txt']);
  });

  it('a symlink swapped in before the check: holding it stops, naming the directory', async () => {
    const dirs = new LocalDirs(new Destination(root));
    await dirs.verify('sub');
    swapSubForSymlink();
    await expect(dirs.hold(['sub'])).rejects.toThrow(/the local directory \S*mirror\/sub changed while gsync ran: a symlink stands there/);
  });

  it('another directory put in its place: holding it stops, and no directory stays open', async () => {
    const dirs = new LocalDirs(new Destination(root));
    await dirs.verify('');
    await dirs.verify('sub');
    renameSync(join(root, 'sub'), join(parent, 'sub.moved'));
    mkdirSync(join(root, 'sub'));
    const openBefore = readdirSync('/proc/self/fd').length;
    await expect(dirs.hold(['', 'sub'])).rejects.toThrow(/another directory stands there/);
    expect(readdirSync('/proc/self/fd').length).toBe(openBefore);
  });

  it('a path in the root goes through the held root, and an unsafe name is refused', async () => {
    const dirs = new LocalDirs(new Destination(root));
    await dirs.verify('');
    const held = await dirs.hold(['']);
    try {
      expect(held.pathOf('top.txt')).toMatch(/^\/proc\/self\/fd\/\d+\/top\.txt$/);
      // The held path is no way around the destination's name checks.
      for (const unsafe of ['..', '.', '.gsync', 'a\0b']) expect(() => held.pathOf(unsafe), unsafe).toThrow(/path/);
    } finally {
      await held.close();
    }
  });
});
