import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overlay, verifyCopy } from '../../bench/datasets/manifest.js';
import { ensureDataset, type Dataset } from '../../bench/datasets/store.js';
import { SCENARIOS, select } from '../../bench/matrix.js';
import { TOOLS } from '../../bench/tools.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';

let dir: string;
let dataset: Dataset;
const quiet = (): void => undefined;

beforeAll(async () => {
  dir = await makeTempDir('gsync-bench-test-');
  dataset = ensureDataset(join(dir, 'a'), 'small100', quiet);
});
afterAll(async () => removeTempDir(dir));

describe('bench datasets', () => {
  it('small100 is one leaf of small: 100 files of 1–16 KiB', () => {
    const { files, bytes } = dataset.v1Manifest;
    expect(files).toHaveLength(100);
    for (const file of files) {
      expect(file.size).toBeGreaterThanOrEqual(1024);
      expect(file.size).toBeLessThanOrEqual(16 * 1024);
    }
    expect(bytes).toBe(files.reduce((sum, f) => sum + f.size, 0));
    // Sizes are drawn per file, so they differ (a constant size would mean a broken generator).
    expect(new Set(files.map((f) => f.size)).size).toBeGreaterThan(50);
  });

  it('is the same bytes and mtimes every time it is generated', () => {
    const again = ensureDataset(join(dir, 'b'), 'small100', quiet);
    expect(again.v1Manifest).toEqual(dataset.v1Manifest);
    for (const file of dataset.v1Manifest.files.slice(0, 10)) {
      expect(statSync(join(again.v1, file.path)).mtimeMs).toBe(statSync(join(dataset.v1, file.path)).mtimeMs);
    }
    expect(statSync(again.v1).mtimeMs).toBe(Date.UTC(2026, 0, 1));
  });

  it('is made once: a second ensure reuses it', () => {
    const before = statSync(join(dataset.v1, 'file-000.bin')).ino;
    ensureDataset(join(dir, 'a'), 'small100', quiet);
    expect(statSync(join(dataset.v1, 'file-000.bin')).ino).toBe(before);
  });
});

describe('verifyCopy: byte for byte, nothing missing, nothing extra', () => {
  const copyOf = (name: string): string => {
    const copy = join(dir, 'copies', name);
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(join(copy, '..'), { recursive: true });
    cpSync(dataset.v1, copy, { recursive: true });
    return copy;
  };
  const owns = (rel: string): boolean => rel === '.gsync';

  it('accepts an exact copy, and the tool’s own state beside it', () => {
    const copy = copyOf('exact');
    mkdirSync(join(copy, '.gsync'));
    writeFileSync(join(copy, '.gsync', 'state.db'), 'x');
    expect(verifyCopy(copy, dataset.v1Manifest, owns)).toBe('');
  });

  const rows: Array<{ description: string; spoil(copy: string): void; want: RegExp }> = [
    {
      description: 'one byte changed, same size',
      spoil: (copy) => {
        const path = join(copy, 'file-007.bin');
        const bytes = readFileSync(path);
        bytes[100] = (bytes[100] ?? 0) ^ 1;
        writeFileSync(path, bytes);
      },
      want: /file-007\.bin: content differs/,
    },
    { description: 'a file grown', spoil: (copy) => appendFileSync(join(copy, 'file-008.bin'), 'x'), want: /file-008\.bin: \d+ bytes, want \d+/ },
    { description: 'a file missing', spoil: (copy) => rmSync(join(copy, 'file-009.bin')), want: /missing file-009\.bin/ },
    { description: 'an extra file', spoil: (copy) => writeFileSync(join(copy, 'stray'), ''), want: /extra file stray/ },
    { description: 'an extra directory', spoil: (copy) => mkdirSync(join(copy, 'more')), want: /extra dir more/ },
  ];
  it.each(rows)('refuses a copy with $description', ({ description, spoil, want }) => {
    const copy = copyOf(description.replaceAll(' ', '-'));
    spoil(copy);
    expect(verifyCopy(copy, dataset.v1Manifest, owns)).toMatch(want);
  });
});

describe('select: which cells a command line runs', () => {
  const tools = [...TOOLS.keys()];
  it('runs every default scenario with its own tools when given nothing', () => {
    const chosen = select([], tools);
    expect(chosen.scenarios.map((s) => s.spec.name)).toEqual(SCENARIOS.filter((s) => s.byDefault).map((s) => s.name));
    expect(chosen.scenarios.map((s) => s.spec.name)).not.toContain('scale');
    expect(chosen.tools).toBeUndefined();
  });
  it('narrows to a dataset and a tool', () => {
    const chosen = select(['incr:small', 'rsync'], tools);
    expect(chosen.scenarios).toHaveLength(1);
    expect(chosen.scenarios[0]?.datasets).toEqual(['small']);
    expect(chosen.tools).toEqual(['rsync']);
  });
  it('names what exists when a word is neither', () => {
    expect(() => select(['fulll'], tools)).toThrow(/scenarios are full, noop.*tools are gsync/);
    expect(() => select(['wan10:mixed'], tools)).toThrow(/no dataset mixed: it runs small100, big/);
  });
  it('lists only tools that exist in every scenario', () => {
    for (const spec of SCENARIOS) for (const tool of spec.tools) expect(tools).toContain(tool);
  });
});

describe('overlay: what a non-deleting pull of v2 over a v1 copy leaves', () => {
  it('takes v2’s files, keeps the ones v2 deleted, and sums the bytes', () => {
    const v1 = {
      dirs: ['d'],
      files: [
        { path: 'd/a', size: 1, sha1: 'a1' },
        { path: 'd/gone', size: 2, sha1: 'g1' },
      ],
      bytes: 3,
    };
    const v2 = {
      dirs: ['d', 'e'],
      files: [
        { path: 'd/a', size: 5, sha1: 'a2' },
        { path: 'e/new', size: 7, sha1: 'n2' },
      ],
      bytes: 12,
    };
    expect(overlay(v1, v2)).toEqual({
      dirs: ['d', 'e'],
      files: [
        { path: 'd/a', size: 5, sha1: 'a2' },
        { path: 'd/gone', size: 2, sha1: 'g1' },
        { path: 'e/new', size: 7, sha1: 'n2' },
      ],
      bytes: 14,
    });
  });
});
