import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartialNames } from '../../src/local/partialNames.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('gsync-partial-names-');
});
afterEach(() => removeTempDir(dir));

describe('PartialNames', () => {
  it('spreads names over 16 directories of the run, each made when first named, owner-only', () => {
    const names = new PartialNames(dir, '7-secret');
    const paths = Array.from({ length: 40 }, () => names.next());
    expect(new Set(paths).size).toBe(40);
    const dirs = new Set(paths.map((path) => dirname(path)));
    expect(dirs.size).toBe(16);
    for (const made of dirs) {
      expect(dirname(made)).toBe(dir);
      expect(made.slice(dir.length + 1)).toMatch(/^7-secret-\d+$/);
      expect(statSync(made).mode & 0o777).toBe(0o700);
    }
    expect(readdirSync(dir).sort()).toStrictEqual([...dirs].map((made) => made.slice(dir.length + 1)).sort());
  });

  it('makes no directory until a name is asked for', () => {
    new PartialNames(dir, '7-secret').removeEmpty();
    expect(readdirSync(dir)).toStrictEqual([]);
  });

  it('removes the empty directories at the end and leaves one still holding a partial to the sweep', () => {
    const names = new PartialNames(dir, '7-secret');
    const paths = Array.from({ length: 20 }, () => names.next());
    const left = paths[3] as string;
    writeFileSync(left, 'cut short');
    names.removeEmpty();
    expect(readdirSync(dir)).toStrictEqual([dirname(left).slice(dir.length + 1)]);
  });

  it('names a partial at the top of the partial dir when its directory cannot be made: the open then says why', () => {
    const missing = join(dir, 'gone');
    const names = new PartialNames(missing, '7-secret');
    expect(names.next()).toBe(join(missing, '7-secret-1'));
  });
});
