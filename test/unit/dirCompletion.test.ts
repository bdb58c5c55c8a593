import { describe, expect, it } from 'vitest';
import { DirCompletion } from '../../src/pipeline/dirCompletion.js';

interface Attrs {
  mtime: number;
  mode: number;
}

/** A tree of directories: each names its subdirectories and whether it has attrs to apply. */
type Tree = Record<string, { subdirs: string[]; attrs: boolean }>;

/** Distinct attrs per directory, so a mix-up between directories would show. */
function attrsOf(dir: string): Attrs {
  return { mtime: 1_700_000_000 + dir.length * 7 + (dir.charCodeAt(dir.length - 1) || 0), mode: dir === '' ? 0o755 : 0o500 };
}

/** Opens every directory of the tree top-down, as the planner does. */
function openTree(completion: DirCompletion, tree: Tree): void {
  for (const [dir, { subdirs, attrs }] of Object.entries(tree)) {
    completion.opened(dir, subdirs.length, attrs ? attrsOf(dir) : undefined);
  }
}

function descendants(tree: Tree, dir: string): string[] {
  return (tree[dir]?.subdirs ?? []).flatMap((sub) => [sub, ...descendants(tree, sub)]);
}

const chain: Tree = {
  '': { subdirs: ['x'], attrs: true },
  x: { subdirs: ['x/y'], attrs: true },
  'x/y': { subdirs: ['x/y/z'], attrs: true },
  'x/y/z': { subdirs: [], attrs: true },
};

const twoLevels: Tree = {
  '': { subdirs: ['a', 'b'], attrs: true },
  a: { subdirs: ['a/1', 'a/2'], attrs: true },
  'a/1': { subdirs: [], attrs: true },
  'a/2': { subdirs: [], attrs: true },
  b: { subdirs: [], attrs: true },
};

describe('DirCompletion: attrs are applied once a directory and its whole subtree are done', () => {
  const rows: Array<{ description: string; tree: Tree; steps: Array<{ finish: string; applied: string[] }> }> = [
    {
      description: 'a lone root is applied when its own work finishes',
      tree: { '': { subdirs: [], attrs: true } },
      steps: [{ finish: '', applied: [''] }],
    },
    {
      description: 'the root waits for both children (root finished first)',
      tree: { '': { subdirs: ['a', 'b'], attrs: true }, a: { subdirs: [], attrs: true }, b: { subdirs: [], attrs: true } },
      steps: [
        { finish: '', applied: [] },
        { finish: 'a', applied: ['a'] },
        { finish: 'b', applied: ['a', 'b', ''] },
      ],
    },
    {
      description: 'the root waits for both children (children finished in reverse order, root last)',
      tree: { '': { subdirs: ['a', 'b'], attrs: true }, a: { subdirs: [], attrs: true }, b: { subdirs: [], attrs: true } },
      steps: [
        { finish: 'b', applied: ['b'] },
        { finish: 'a', applied: ['b', 'a'] },
        { finish: '', applied: ['b', 'a', ''] },
      ],
    },
    {
      description: 'a chain finished top-down is applied deepest first',
      tree: chain,
      steps: [
        { finish: '', applied: [] },
        { finish: 'x', applied: [] },
        { finish: 'x/y', applied: [] },
        { finish: 'x/y/z', applied: ['x/y/z', 'x/y', 'x', ''] },
      ],
    },
    {
      description: 'a chain finished bottom-up is applied as each finishes',
      tree: chain,
      steps: [
        { finish: 'x/y/z', applied: ['x/y/z'] },
        { finish: 'x/y', applied: ['x/y/z', 'x/y'] },
        { finish: 'x', applied: ['x/y/z', 'x/y', 'x'] },
        { finish: '', applied: ['x/y/z', 'x/y', 'x', ''] },
      ],
    },
    {
      description: 'a middle directory without attrs is skipped but lets its parent complete',
      tree: { '': { subdirs: ['a'], attrs: true }, a: { subdirs: ['a/b'], attrs: false }, 'a/b': { subdirs: [], attrs: true } },
      steps: [
        { finish: '', applied: [] },
        { finish: 'a', applied: [] },
        { finish: 'a/b', applied: ['a/b', ''] },
      ],
    },
    {
      description: 'a leaf without attrs is skipped but lets its parent complete',
      tree: { '': { subdirs: ['a', 'b'], attrs: true }, a: { subdirs: [], attrs: false }, b: { subdirs: [], attrs: true } },
      steps: [
        { finish: 'a', applied: [] },
        { finish: '', applied: [] },
        { finish: 'b', applied: ['b', ''] },
      ],
    },
    {
      description: 'a root without attrs is never applied',
      tree: { '': { subdirs: ['a'], attrs: false }, a: { subdirs: [], attrs: true } },
      steps: [
        { finish: '', applied: [] },
        { finish: 'a', applied: ['a'] },
      ],
    },
    {
      description: 'two levels in a scrambled order',
      tree: twoLevels,
      steps: [
        { finish: 'a/2', applied: ['a/2'] },
        { finish: '', applied: ['a/2'] },
        { finish: 'b', applied: ['a/2', 'b'] },
        { finish: 'a', applied: ['a/2', 'b'] },
        { finish: 'a/1', applied: ['a/2', 'b', 'a/1', 'a', ''] },
      ],
    },
    {
      description: 'two levels with the subtrees finished one after the other',
      tree: twoLevels,
      steps: [
        { finish: '', applied: [] },
        { finish: 'b', applied: ['b'] },
        { finish: 'a/1', applied: ['b', 'a/1'] },
        { finish: 'a', applied: ['b', 'a/1'] },
        { finish: 'a/2', applied: ['b', 'a/1', 'a/2', 'a', ''] },
      ],
    },
  ];
  it.each(rows)('$description', async ({ tree, steps }) => {
    const applied: Array<{ dir: string; attrs: Attrs }> = [];
    const finished = new Set<string>();
    const completion = new DirCompletion(async (dir, attrs) => {
      // When a directory is applied, its whole subtree is done and every child with attrs applied.
      expect(finished.has(dir)).toBe(true);
      for (const below of descendants(tree, dir)) {
        expect(finished.has(below), `${below} finished before ${dir}`).toBe(true);
        if (tree[below]?.attrs) expect(applied.map((a) => a.dir), `${below} applied before ${dir}`).toContain(below);
      }
      applied.push({ dir, attrs });
    });
    openTree(completion, tree);
    for (const { finish, applied: want } of steps) {
      finished.add(finish);
      await completion.finished(finish);
      expect(applied.map((a) => a.dir), `after finishing '${finish}'`).toStrictEqual(want);
    }
    for (const { dir, attrs } of applied) expect(attrs).toStrictEqual(attrsOf(dir));
  });

  it('every order of finishing the children gives the same result: each applied once, root last', async () => {
    const dirs = Object.keys(twoLevels);
    for (const order of permutations(dirs)) {
      const applied: string[] = [];
      const completion = new DirCompletion(async (dir) => {
        applied.push(dir);
      });
      openTree(completion, twoLevels);
      for (const dir of order) await completion.finished(dir);
      expect(applied.slice().sort(), order.join(',')).toStrictEqual(dirs.slice().sort());
      expect(applied.at(-1), order.join(',')).toBe('');
      expect(applied.indexOf('a'), order.join(',')).toBeGreaterThan(Math.max(applied.indexOf('a/1'), applied.indexOf('a/2')));
    }
  });

  it("a parent is not applied until its child's apply has finished", async () => {
    const started: string[] = [];
    const release = new Map<string, () => void>();
    const completion = new DirCompletion(
      (dir) =>
        new Promise<void>((resolve) => {
          started.push(dir);
          release.set(dir, resolve);
        }),
    );
    openTree(completion, { '': { subdirs: ['a'], attrs: true }, a: { subdirs: [], attrs: true } });
    await completion.finished('');
    const childDone = completion.finished('a');
    expect(started).toStrictEqual(['a']);
    release.get('a')?.();
    // The root's apply starts only once the child's has resolved.
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toStrictEqual(['a', '']);
    release.get('')?.();
    await childDone;
  });

  it('finishing a directory that was never opened does nothing', async () => {
    const applied: string[] = [];
    const completion = new DirCompletion(async (dir) => {
      applied.push(dir);
    });
    completion.opened('', 1, attrsOf(''));
    await completion.finished('elsewhere/x');
    await completion.finished('');
    expect(applied).toStrictEqual([]);
  });
});

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
