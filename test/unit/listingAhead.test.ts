import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalListingAhead } from '../../src/local/listingAhead.js';
import { Destination } from '../../src/local/paths.js';
import { listLocalDir } from '../../src/local/scan.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';

let root: string;
beforeEach(async () => {
  root = await makeTempDir('gsync-listing-ahead-');
  // root: a.txt, .gsync/, link -> a (not descended), a/{x, b/{y}}, c/{z}
  mkdirSync(join(root, '.gsync'));
  writeFileSync(join(root, '.gsync', 'state.db'), '');
  writeFileSync(join(root, 'a.txt'), 'a');
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  writeFileSync(join(root, 'a', 'x'), 'x');
  writeFileSync(join(root, 'a', 'b', 'y'), 'yy');
  mkdirSync(join(root, 'c'));
  writeFileSync(join(root, 'c', 'z'), 'zzz');
  symlinkSync('a', join(root, 'link'));
});
afterEach(() => removeTempDir(root));

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};
const names = (entries: ReturnType<typeof listLocalDir> | undefined): string[] => (entries ?? []).map((e) => e.name).sort();

describe('LocalListingAhead', () => {
  it('lists every directory ahead, as listLocalDir would, and hands each over once', async () => {
    const ahead = new LocalListingAhead(new Destination(root));
    await turns(5);
    expect(ahead.take('')).toStrictEqual(listLocalDir(root, '.gsync'));
    expect(names(ahead.take('a'))).toStrictEqual(['b', 'x']);
    expect(ahead.take('a/b')).toStrictEqual(listLocalDir(join(root, 'a', 'b')));
    expect(names(ahead.take('c'))).toStrictEqual(['z']);
    // Once only; and never what it did not find as a directory (a symlink, something the walk makes).
    expect(ahead.take('c')).toBeUndefined();
    expect(ahead.take('link')).toBeUndefined();
    expect(ahead.take('new')).toBeUndefined();
  });

  it('lists a directory asked for before its turn there and then, and goes on below it', async () => {
    const ahead = new LocalListingAhead(new Destination(root));
    // No turn has passed: only the root is listed.
    expect(names(ahead.take(''))).toStrictEqual(['a', 'a.txt', 'c', 'link']);
    writeFileSync(join(root, 'a', 'late'), 'written before the walk reached a');
    expect(names(ahead.take('a'))).toStrictEqual(['b', 'late', 'x']);
    await turns(5);
    expect(names(ahead.take('a/b'))).toStrictEqual(['y']);
  });

  it('leaves a directory it cannot read to the walk', async () => {
    const ahead = new LocalListingAhead(new Destination(root));
    ahead.take('');
    // A symlink loop since it was found: reading it fails, and the walk lists it itself (and says why).
    rmSync(join(root, 'c'), { recursive: true });
    symlinkSync('c', join(root, 'c'));
    expect(() => listLocalDir(join(root, 'c'))).toThrow(/ELOOP/);
    await turns(5);
    expect(ahead.take('c')).toBeUndefined();
    expect(names(ahead.take('a'))).toStrictEqual(['b', 'x']);
  });

  it('stops queueing at its bound, and lists nothing more once stopped', async () => {
    const bounded = new LocalListingAhead(new Destination(root), 3);
    await turns(5);
    // The root's 4 entries passed the bound: nothing below it was found.
    expect(names(bounded.take(''))).toHaveLength(4);
    expect(bounded.take('a')).toBeUndefined();
    const stopped = new LocalListingAhead(new Destination(root));
    stopped.stop();
    await turns(5);
    expect(stopped.take('')).toBeUndefined();
    expect(stopped.take('a')).toBeUndefined();
  });
});
