import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFilter, parseFilterFile, type Filter, type FilterRule } from '../../src/core/filter.js';
import { GsyncError } from '../../src/errors/GsyncError.js';
import { runProcess, type ProcessResult } from '../support/runProcess.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';
import { dir, file, symlink, writeTree, type TreeSpec } from '../support/trees.js';

/**
 * rsync is the oracle: every row's rules are given to the real `rsync -n -a` and to our filter
 * walking the same tree top-down, and both must select the same paths. No expected lists here.
 */

const tree: TreeSpec = {
  'README.md': file('readme'),
  'notes.txt': file('notes'),
  '.env': file('env'),
  '.gitignore': file('ignore'),
  'a.pt': file('a'),
  'b.pt': file('b'),
  'é.txt': file('two bytes of name before the dot'),
  'x.txt': file('one byte of name before the dot'),
  'x.tmp': file('tmp'),
  'back\\slash.txt': file('a backslash in the name'),
  '[x].txt': file('brackets in the name'),
  'a b.txt': file('a space in the name'),
  'Util.C': file('upper-case extension'),
  data: dir({
    'a.pt': file('a, one level down'),
    train: dir({
      'shard-000.pt': file('0'),
      'shard-001.pt': file('1'),
      'shard-010.bin': file('10'),
      'shard-1a.pt': file('1a'),
      '.cache': dir({ 'idx.tmp': file('idx') }),
      logs: dir({ 'run.log': file('train log') }),
    }),
    val: dir({ 'shard-000.pt': file('val 0'), 'notes.txt': file('val notes') }),
    raw: dir({ deep: dir({ deeper: dir({ 'notes.txt': file('deep notes'), 'blob.bin': file('blob') }) }) }),
  }),
  ckpt: dir({
    'step-1': dir({ 'model.pt': file('m1'), 'optim.pt': file('o1'), 'meta.json': file('{}') }),
    'step-2': dir({ 'model.pt': file('m2') }),
    latest: symlink('step-2'),
    'ckpt.log': file('ckpt log'),
  }),
  logs: dir({ 'run.log': file('run'), '2024-01-01.log': file('dated'), old: dir({ 'run.log': file('old run') }) }),
  '.git': dir({ HEAD: file('ref'), objects: dir({ ab: dir({ cdef: file('object') }) }) }),
  foo: dir({ bar: dir({ 'baz.txt': file('baz') }), 'bar.txt': file('bar') }),
  src: dir({
    foo: dir({ bar: dir({ 'qux.c': file('qux') }), 'main.c': file('main') }),
    'util.c': file('util'),
    logs: file('a file named logs'),
  }),
  empty: dir({}),
};

/** One command-line filter option; an --exclude-from's value is the file's content. */
type FilterOption = ['--include' | '--exclude' | '--exclude-from', string];

interface Row {
  description: string;
  options: FilterOption[];
  /** The rules select every path (on purpose); otherwise the row must leave something out. */
  selectsAll?: true;
}

const rows: Row[] = [
  { description: 'no rules: everything', options: [], selectsAll: true },
  { description: 'a basename glob at any depth', options: [['--exclude', '*.pt']] },
  { description: 'a leading / anchors at the transfer root', options: [['--exclude', '/a.pt']] },
  { description: 'a name without / matches at any depth', options: [['--exclude', 'a.pt']] },
  { description: 'an excluded anchored dir takes its subtree with it', options: [['--exclude', '/logs']] },
  { description: 'a trailing / matches dirs only (a file named logs stays)', options: [['--exclude', 'logs/']] },
  { description: 'without a trailing / files and dirs both match', options: [['--exclude', 'logs']] },
  { description: 'an inner / matches the last components at any depth', options: [['--exclude', 'foo/bar']] },
  { description: 'an inner / with a * component', options: [['--exclude', 'foo/*/qux.c']] },
  { description: '*/*.pt needs two components (a.pt at the root stays)', options: [['--exclude', '*/*.pt']] },
  { description: 'anchored /data/**/notes.txt needs a dir between', options: [['--exclude', '/data/**/notes.txt']] },
  { description: 'a leading **/ matches at any depth', options: [['--exclude', '**/deeper']] },
  { description: 'a leading **/ also matches at the root (it is matched against "/" + path)', options: [['--exclude', '**/logs']] },
  { description: 'a leading ** without / matches the end of the whole path', options: [['--exclude', '**.c']] },
  { description: 'a trailing ** takes the contents but not the dir', options: [['--exclude', 'data/**']] },
  { description: 'an unanchored ** pattern matches after any / (deep/** below the root)', options: [['--exclude', 'deep/**']] },
  { description: 'foo/** empties every dir named foo, at any depth', options: [['--exclude', 'foo/**']] },
  { description: 'an anchored trailing **', options: [['--exclude', '/data/train/**']] },
  { description: '** inside a component crosses /', options: [['--exclude', 'data/**.pt']] },
  { description: '** without / still matches the whole path: t**.pt reaches into train/', options: [['--exclude', 't**.pt']] },
  { description: 'an anchored * stays within its component', options: [['--exclude', '/data/*.pt']] },
  { description: 'a trailing * stops at /', options: [['--include', '/data/t*'], ['--exclude', '/data/train/*']] },
  { description: 'a ? never matches /, even beside **', options: [['--exclude', 'ckpt?**']] },
  { description: 'a class never matches /, even negated', options: [['--exclude', 'ckpt[!a]**']] },
  { description: 'an infix /**/ needs at least one dir between', options: [['--exclude', 'src/**/*.c']] },
  { description: 'dir/*** includes the dir itself and all under it', options: [['--include', 'ckpt/***'], ['--exclude', '*']] },
  { description: 'dir/** does not include the dir, so nothing under it is reached', options: [['--include', 'ckpt/**'], ['--exclude', '*']] },
  { description: 'dir/*** excludes the dir and its subtree', options: [['--exclude', 'ckpt/***']] },
  { description: 'include every dir and *.pt, exclude the rest', options: [['--include', '*/'], ['--include', '*.pt'], ['--exclude', '*']] },
  {
    description: "rsync's man page example: each anchored dir on the way down included",
    options: [['--include', '/ckpt/'], ['--include', '/ckpt/step-1/'], ['--include', '/ckpt/step-1/model.pt'], ['--exclude', '*']],
  },
  { description: 'first match wins: an exclude before the include', options: [['--exclude', '*'], ['--include', '*.pt']] },
  { description: 'an include before a broader exclude', options: [['--include', '.gitignore'], ['--exclude', '.*']] },
  { description: 'dotfiles and dot-dirs', options: [['--exclude', '.*']] },
  { description: '? is one character', options: [['--exclude', '?.pt']] },
  { description: '? is one byte: é is two', options: [['--exclude', '?.txt']] },
  { description: '?? matches a two-byte é', options: [['--exclude', '??.txt']] },
  { description: 'a class with a range', options: [['--exclude', 'shard-0[0-1]?.pt']] },
  { description: 'a negated class with !', options: [['--exclude', '[!a-z]*']] },
  { description: 'a negated class with ^, at every depth', options: [['--exclude', '[^.sl]*']] },
  { description: 'a POSIX class', options: [['--exclude', '[[:upper:]]*']] },
  { description: 'a POSIX class inside a name', options: [['--exclude', '*[[:digit:]].log']] },
  { description: 'a class of two letters is case-sensitive', options: [['--exclude', '*.[ch]']] },
  { description: 'escaped brackets are literal', options: [['--exclude', '\\[x\\].txt']] },
  { description: 'a class holding [ matches a literal [', options: [['--exclude', '[[]x]*']] },
  { description: 'a backslash in a pattern without wildcards is literal', options: [['--exclude', 'back\\slash.txt']] },
  { description: 'a backslash in a wildcard pattern escapes (\\s is s)', options: [['--exclude', 'back\\slash*']], selectsAll: true },
  { description: 'a dir-only wildcard', options: [['--exclude', 'step-*/']] },
  { description: 'a symlink to a dir is not a dir', options: [['--exclude', 'latest/']], selectsAll: true },
  { description: 'a symlink matches by name', options: [['--exclude', 'latest']] },
  { description: 'anchored dirs two levels down', options: [['--exclude', '/*/*/']] },
  { description: 'a space is part of the name', options: [['--exclude', 'a b.txt']] },
  { description: 'a lone / matches nothing', options: [['--exclude', '/']], selectsAll: true },
  { description: '"- " on an --include makes it an exclude', options: [['--include', '- *.json']] },
  { description: '"+ " on an --exclude makes it an include', options: [['--exclude', '+ a.pt'], ['--exclude', '*.pt']] },
  { description: 'a lone ! clears the rules before it', options: [['--exclude', '*.log'], ['--exclude', '!'], ['--exclude', '*.json']] },
  {
    description: 'an --exclude-from with comments, blank lines, +/- prefixes and CRLF',
    options: [['--exclude-from', '# comment\r\n; another\r\n\r\n+ shard-000.pt\r\n*.pt\r\n- logs/\r\n*.tmp\r\n']],
  },
  { description: 'an --exclude-from with a lone CR between lines', options: [['--exclude-from', '*.json\r*.log']] },
  { description: 'a ! in an --exclude-from clears the command line rules before it', options: [['--exclude', '*.log'], ['--exclude-from', '!\n*.tmp\n']] },
  { description: 'a trailing space is part of the pattern', options: [['--exclude-from', 'notes.txt \n']], selectsAll: true },
  { description: 'a # inside a line is part of the pattern', options: [['--exclude-from', 'x.t#p\n*.tmp#\nx.tmp\n']] },
];

let scratch: string;
let source: string;
let everythingByRsync: Promise<string[]> | undefined;

beforeAll(async () => {
  scratch = await makeTempDir('gsync-filter-');
  source = join(scratch, 'tree');
  await writeTree(source, tree);
});

/** The whole tree as rsync lists it, asked once (inside a test, so a missing rsync fails it). */
function everything(): Promise<string[]> {
  everythingByRsync ??= selectByRsync([], 'everything');
  return everythingByRsync;
}

afterAll(async () => {
  if (scratch !== undefined) await removeTempDir(scratch);
});

describe('compileFilter selects what rsync -n -a selects', () => {
  it.each(rows.map((row, index) => ({ ...row, index })))('$description', async ({ options, selectsAll, index }) => {
    const byRsync = await selectByRsync(options, `row-${index}`);
    const ours = await selectByWalking(source, compileFilter(rulesOf(options)));
    expect(ours).toEqual(byRsync);
    // A row that selects everything by accident would test nothing.
    if (selectsAll) expect(byRsync).toEqual(await everything());
    else expect(byRsync).not.toEqual(await everything());
  });
});

describe('patterns that can never match are refused', () => {
  const broken = ['[abc', '*.[ch', '[]', '[!', 'x[[:alpha:]', '[[:vowel:]]*', 'trailing*\\'];
  it.each(broken)('%s: a usage error, where rsync silently matches nothing', async (pattern) => {
    expect(await selectByRsync([['--exclude', pattern]], 'broken')).toEqual(await everything());
    const compiling = (): Filter => compileFilter([{ kind: 'exclude', pattern }]);
    expect(compiling).toThrow(GsyncError);
    expect(compiling).toThrow(expect.objectContaining({ kind: 'usage', exitCode: 1 }) as unknown as Error);
  });

  it.each(['- ', '+ '])('%j (a prefix and no pattern): a usage error, as rsync refuses it', async (pattern) => {
    const result = await runRsync([`--exclude=${pattern}`]);
    expect(result.code).toBe(1);
    expect(result.stderr.toString()).toMatch(/unexpected end of filter rule/);
    expect(() => compileFilter([{ kind: 'exclude', pattern }])).toThrow(expect.objectContaining({ kind: 'usage' }) as unknown as Error);
  });
});

describe('compileFilter without a tree', () => {
  it('includes the root and everything when there are no rules', () => {
    const filter = compileFilter([]);
    expect(filter.empty).toBe(true);
    expect(filter.verdict('', true)).toBe('include');
    expect(filter.verdict('a/b', false)).toBe('include');
  });

  it('an empty rule is ignored, as rsync ignores it', () => {
    expect(compileFilter([{ kind: 'exclude', pattern: '' }]).empty).toBe(true);
  });

  it('never excludes the transfer root itself', () => {
    expect(compileFilter([{ kind: 'exclude', pattern: '*' }]).verdict('', true)).toBe('include');
  });

  it('rules after a lone ! are all that count', () => {
    const filter = compileFilter([{ kind: 'exclude', pattern: '*' }, { kind: 'include', pattern: '!' }]);
    expect(filter.empty).toBe(true);
  });
});

describe('parseFilterFile', () => {
  const rows: Array<{ description: string; text: string; want: string[] }> = [
    { description: 'one pattern per line', text: 'a\nb/\n/c\n', want: ['a', 'b/', '/c'] },
    { description: 'no final newline', text: 'a\nb', want: ['a', 'b'] },
    { description: 'CRLF and lone CR end lines too', text: 'a\r\nb\rc\n', want: ['a', 'b', 'c'] },
    { description: 'blank lines skipped', text: '\n\na\n\n', want: ['a'] },
    { description: '# and ; comments skipped', text: '# x\n; y\na\n', want: ['a'] },
    { description: 'a # or ; after the start is kept', text: 'a#b\n a;b\n', want: ['a#b', ' a;b'] },
    { description: 'spaces kept byte for byte', text: ' a \n', want: [' a '] },
    { description: 'prefixes and ! kept for compileFilter', text: '+ a\n- b\n!\n', want: ['+ a', '- b', '!'] },
    { description: 'names are not normalised', text: 'e\u0301.txt\n', want: ['e\u0301.txt'] },
  ];
  it.each(rows)('$description', ({ text, want }) => {
    expect(parseFilterFile(text)).toEqual(want);
  });
});

/** The rules as the CLI will build them: an --exclude-from's lines become excludes in place. */
function rulesOf(options: FilterOption[]): FilterRule[] {
  return options.flatMap(([option, value]): FilterRule[] => {
    if (option === '--exclude-from') return parseFilterFile(value).map((pattern) => ({ kind: 'exclude', pattern }));
    return [{ kind: option === '--include' ? 'include' : 'exclude', pattern: value }];
  });
}

/** What rsync would transfer into an empty destination: dirs end in /, the root is left out. */
async function selectByRsync(options: FilterOption[], label: string): Promise<string[]> {
  const args: string[] = [];
  for (const [option, value] of options) {
    if (option !== '--exclude-from') {
      args.push(`${option}=${value}`);
      continue;
    }
    const rulesFile = join(scratch, `${label}-${args.length}.rules`);
    await writeFile(rulesFile, value);
    args.push(`--exclude-from=${rulesFile}`);
  }
  const result = await runRsync(args);
  if (result.code !== 0) throw new Error(`rsync ${args.join(' ')} exited ${result.code}: ${result.stderr.toString()}`);
  return result.stdout
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '' && line !== './')
    .sort();
}

/** A missing rsync fails every test that needs it, saying so: the oracle is not optional. */
async function runRsync(filterArgs: string[]): Promise<ProcessResult> {
  const destination = await makeTempDir('gsync-filter-dst-');
  try {
    // -8: names leave rsync as their bytes, whatever the locale; LC_ALL=C: ASCII [:classes:].
    const args = ['-n', '-a', '-8', '--out-format=%n', ...filterArgs, `${source}/`, `${destination}/`];
    return await runProcess('rsync', args, { env: { ...process.env, LC_ALL: 'C' } }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      throw new Error('rsync is not installed: the filter test uses it as its oracle; run scripts/setup.sh (or apt-get install -y rsync)');
    });
  } finally {
    await removeTempDir(destination);
  }
}

/** Walks top-down as rsync's sender does: an excluded dir is not even listed. */
async function selectByWalking(root: string, filter: Filter): Promise<string[]> {
  const selected: string[] = [];
  const walk = async (path: string, relDir: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const relPath = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      const isDir = entry.isDirectory();
      if (filter.verdict(relPath, isDir) === 'exclude') continue;
      selected.push(isDir ? `${relPath}/` : relPath);
      if (isDir) await walk(join(path, entry.name), relPath);
    }
  };
  await walk(root, '');
  return selected.sort();
}
