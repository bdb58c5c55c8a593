import { describe, expect, it } from 'vitest';
import { deleteRefusal } from '../../src/core/deleteGuard.js';
import { compileFilter } from '../../src/core/filter.js';
import { planDir } from '../../src/core/plan.js';
import type { DirInput, LocalEntry, RemoteEntry } from '../../src/core/types.js';

const file = (name: string, size = 10, mtime = 1000): RemoteEntry => ({ name, kind: 'file', size, mtime, mode: 0o644 });
const dir = (name: string): RemoteEntry => ({ name, kind: 'dir', size: 0, mtime: 2000, mode: 0o755 });
const local = (entry: RemoteEntry): LocalEntry => ({ ...entry });

function plan(input: Partial<DirInput>): Record<string, string> {
  const result = planDir({ path: 'd', remote: [], local: [], state: [], ...input });
  const byPath: Record<string, string> = Object.fromEntries(result.actions.map((a) => [a.path, a.type]));
  for (const sub of result.subdirs) byPath[sub.path] = `${byPath[sub.path] ?? 'present'}+descend`;
  return byPath;
}

describe('planDir: --delete, filters, sizes and age', () => {
  const remote = [file('kept.txt'), dir('sub')];
  const localSide = [local(file('kept.txt')), local(file('gone.txt')), local(dir('old-dir')), local(file('scratch.tmp'))];

  it('without delete, local-only entries are left alone', () => {
    expect(plan({ remote, local: localSide })).toEqual({ 'd/kept.txt': 'adopt', 'd/sub': 'mkdir+descend' });
  });

  it('with delete, every local-only entry is to be deleted, files and directories alike', () => {
    expect(plan({ remote, local: localSide, delete: true })).toMatchObject({ 'd/gone.txt': 'delete', 'd/old-dir': 'delete', 'd/scratch.tmp': 'delete' });
  });

  it('an excluded local entry is never deleted; an excluded remote one is neither taken nor descended into', () => {
    const filter = compileFilter([
      { kind: 'exclude', pattern: '*.tmp' },
      { kind: 'exclude', pattern: 'sub/' },
    ]);
    expect(plan({ remote, local: localSide, delete: true, selection: { filter } })).toEqual({
      'd/kept.txt': 'adopt',
      'd/gone.txt': 'delete',
      'd/old-dir': 'delete',
    });
  });

  it('a file held back by size or age is neither fetched nor deleted', () => {
    const remoteFiles = [file('small.txt', 5), file('large.bin', 5000), file('new.ckpt', 100, 9999), file('fine.txt', 100)];
    const localFiles = remoteFiles.map((f) => local({ ...f, mtime: 1 }));
    const actions = plan({ remote: remoteFiles, local: localFiles, delete: true, selection: { minSize: 10, maxSize: 1000, modifiedBy: 5000 } });
    expect(actions).toEqual({ 'd/small.txt': 'hold', 'd/large.bin': 'hold', 'd/new.ckpt': 'hold', 'd/fine.txt': 'fetch' });
  });
});

describe('deleteRefusal: --max-delete and the mass-delete guard', () => {
  const rows: Array<{ files: number; known: number; maxDelete?: number; allowMass?: boolean; refused: boolean }> = [
    { files: 0, known: 0, refused: false },
    { files: 0, known: 100, maxDelete: 0, refused: false },
    { files: 3, known: 100, refused: false },
    { files: 50, known: 100, refused: false },
    { files: 51, known: 100, refused: true },
    { files: 51, known: 100, allowMass: true, refused: false },
    { files: 2, known: 2, refused: true },
    { files: 1, known: 2, refused: false },
    { files: 5, known: 0, refused: true },
    { files: 3, known: 100, maxDelete: 2, refused: true },
    { files: 3, known: 100, maxDelete: 3, refused: false },
    { files: 80, known: 100, maxDelete: 10, allowMass: true, refused: true },
  ];
  it.each(rows)('$files of $known files, --max-delete $maxDelete, mass allowed $allowMass → refused $refused', ({ files, known, maxDelete, allowMass, refused }) => {
    const why = deleteRefusal(files, { knownFiles: known, allowMass: allowMass ?? false, ...(maxDelete === undefined ? {} : { maxDelete }) });
    expect(why !== undefined).toBe(refused);
  });

  it('says how many files would go against how many the mirror records, also when hand-made files make it more', () => {
    expect(deleteRefusal(2, { knownFiles: 1, allowMass: false })).toMatch(/^--delete would remove 2 files, against 1 this mirror records: nothing was deleted\. /);
  });
});
