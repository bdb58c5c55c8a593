import { describe, expect, it } from 'vitest';
import { planDir } from '../../src/core/plan.js';
import type { Action, DirInput, LocalEntry, ManifestRow, RemoteEntry } from '../../src/core/types.js';

const file = (name: string, size = 10, mtime = 1000, mode = 0o644): RemoteEntry => ({ name, kind: 'file', size, mtime, mode });
const dir = (name: string, mtime = 2000, mode = 0o755): RemoteEntry => ({ name, kind: 'dir', size: 0, mtime, mode });
const link = (name: string, target: string): RemoteEntry => ({ name, kind: 'symlink', size: 0, mtime: 3000, mode: 0o777, linkTarget: target });
const other = (name: string): RemoteEntry => ({ name, kind: 'other', size: 0, mtime: 4000, mode: 0o644 });
const local = (entry: RemoteEntry, changes: Partial<LocalEntry> = {}): LocalEntry => ({ ...entry, ...changes });
const known = (path: string, entry: RemoteEntry): ManifestRow => ({
  path,
  kind: entry.kind,
  size: entry.size,
  mtime: entry.mtime,
  mode: entry.mode,
  linkTarget: entry.linkTarget ?? null,
});

interface Row {
  description: string;
  remote: RemoteEntry;
  local?: LocalEntry;
  state?: ManifestRow;
  want: Action['type'] | 'none';
  replace?: boolean;
}

const f = file('a.bin');
const d = dir('sub');
const l = link('latest', 'step-2.pt');

const rows: Row[] = [
  { description: 'file missing locally is fetched', remote: f, want: 'fetch' },
  { description: 'file with same size and mtime, recorded, is skipped', remote: f, local: local(f), state: known('a.bin', f), want: 'skip' },
  { description: 'file with same size and mtime, not recorded, is adopted', remote: f, local: local(f), want: 'adopt' },
  { description: 'file with same stamp but a stale record is adopted', remote: f, local: local(f), state: known('a.bin', file('a.bin', 10, 999)), want: 'adopt' },
  { description: 'file with same stamp but another local mode is adopted (mode fixed)', remote: f, local: local(f, { mode: 0o600 }), state: known('a.bin', f), want: 'adopt' },
  { description: 'remote setuid bit is not a mode difference locally', remote: file('a.bin', 10, 1000, 0o4755), local: local(f, { mode: 0o755 }), state: known('a.bin', file('a.bin', 10, 1000, 0o4755)), want: 'skip' },
  { description: 'file of another size is fetched', remote: f, local: local(f, { size: 11 }), state: known('a.bin', f), want: 'fetch' },
  { description: 'file of another mtime is fetched', remote: f, local: local(f, { mtime: 999 }), want: 'fetch' },
  { description: 'file where a local symlink stands is fetched (rename replaces the link itself)', remote: f, local: { ...l, name: 'a.bin' }, want: 'fetch' },
  { description: 'file where a local directory stands is a conflict', remote: f, local: { ...d, name: 'a.bin' }, want: 'conflict' },
  { description: 'file where a local fifo stands is fetched', remote: f, local: { ...other('a.bin') }, want: 'fetch' },
  { description: 'dir missing locally is made', remote: d, want: 'mkdir', replace: false },
  { description: 'dir already there needs no action', remote: d, local: local(d), want: 'none' },
  { description: 'dir already there with other attrs needs no action (attrs come with completion)', remote: d, local: local(d, { mtime: 1, mode: 0o700 }), want: 'none' },
  { description: 'dir where a local file stands replaces it', remote: d, local: { ...f, name: 'sub' }, want: 'mkdir', replace: true },
  { description: 'dir where a local symlink stands replaces the link, never follows it', remote: d, local: { ...l, name: 'sub' }, want: 'mkdir', replace: true },
  { description: 'symlink missing locally is made', remote: l, want: 'symlink' },
  { description: 'symlink with the same target, recorded, is skipped', remote: l, local: local(l), state: known('latest', l), want: 'skip' },
  { description: 'symlink with the same target, not recorded, is adopted', remote: l, local: local(l), want: 'adopt' },
  { description: 'symlink with another target is remade', remote: l, local: local(l, { linkTarget: 'step-1.pt' }), want: 'symlink' },
  { description: 'symlink where a local file stands replaces it', remote: l, local: { ...f, name: 'latest' }, want: 'symlink' },
  { description: 'symlink where a local directory stands is a conflict', remote: l, local: { ...d, name: 'latest' }, want: 'conflict' },
  { description: 'a socket, fifo or device is not copied', remote: other('sock'), want: 'unsupported' },
  { description: 'a socket, fifo or device is not copied even with a local file there', remote: other('sock'), local: { ...f, name: 'sock' }, want: 'unsupported' },
];

describe('planDir: one remote entry against every local kind, with and without a state record', () => {
  it.each(rows)('$description', (row) => {
    const input: DirInput = { path: 'run', remote: [row.remote], local: row.local ? [row.local] : [], state: row.state ? [{ ...row.state, path: `run/${row.state.path}` }] : [] };
    const plan = planDir(input);
    if (row.want === 'none') {
      expect(plan.actions).toEqual([]);
      return;
    }
    expect(plan.actions).toHaveLength(1);
    const action = plan.actions[0];
    expect(action?.type).toBe(row.want);
    expect(action?.path).toBe(`run/${row.remote.name}`);
    if (action?.type === 'mkdir') expect(action.replace).toBe(row.replace);
  });
});

describe('planDir: the directory as a whole', () => {
  it('descends into every remote subdirectory with its attributes, and only those', () => {
    const plan = planDir({ path: '', remote: [dir('b', 5, 0o700), file('x'), dir('a', 6)], local: [local(dir('a'))], state: [] });
    expect(plan.subdirs).toEqual([
      { path: 'b', attrs: { mtime: 5, mode: 0o700 } },
      { path: 'a', attrs: { mtime: 6, mode: 0o755 } },
    ]);
  });

  it('leaves entries that exist only locally alone', () => {
    const plan = planDir({ path: '', remote: [], local: [local(file('mine.txt')), local(dir('my-dir'))], state: [] });
    expect(plan.actions).toEqual([]);
    expect(plan.subdirs).toEqual([]);
  });

  it("carries the directory's own attributes only when given", () => {
    expect(planDir({ path: 'd', remote: [], local: [], state: [], self: { mtime: 7, mode: 0o750 } }).attrs).toEqual({ mtime: 7, mode: 0o750 });
    expect(planDir({ path: 'd', remote: [], local: [], state: [] }).attrs).toBeUndefined();
  });

  it('builds child paths from the directory path', () => {
    const plan = planDir({ path: 'a/b', remote: [file('c.txt')], local: [], state: [] });
    expect(plan.actions[0]?.path).toBe('a/b/c.txt');
  });

  it('matches state rows by full path, not by name alone', () => {
    const f1 = file('c.txt');
    const plan = planDir({ path: 'a', remote: [f1], local: [local(f1)], state: [known('b/c.txt', f1)] });
    expect(plan.actions[0]?.type).toBe('adopt');
  });
});

describe('planDir with --append', () => {
  const grown = file('a.bin', 30, 2000);
  const old = file('a.bin', 10, 1000);
  const table: Array<{ description: string; local?: LocalEntry; state?: ManifestRow; append: boolean; want: Action['type'] }> = [
    { description: 'a recorded complete copy that the remote outgrew is extended', local: local(old), state: known('a.bin', old), append: true, want: 'append' },
    { description: 'without --append it is fetched again', local: local(old), state: known('a.bin', old), append: false, want: 'fetch' },
    { description: 'a local file the state file does not know is fetched (it may not be a copy at all)', local: local(old), append: true, want: 'fetch' },
    { description: 'a local file changed since it was recorded is fetched', local: local(old, { mtime: 1500 }), state: known('a.bin', old), append: true, want: 'fetch' },
    { description: 'a remote file that shrank is fetched', local: local(file('a.bin', 40, 1000)), state: known('a.bin', file('a.bin', 40, 1000)), append: true, want: 'fetch' },
    { description: 'nothing local: fetched', append: true, want: 'fetch' },
  ];
  it.each(table)('$description', ({ local: here, state, append, want }) => {
    const plan = planDir({ path: '', remote: [grown], local: here ? [here] : [], state: state ? [state] : [], append });
    expect(plan.actions.map((a) => a.type)).toStrictEqual([want]);
    const action = plan.actions[0];
    if (action?.type === 'append') expect(action.from).toBe(10);
  });
});
