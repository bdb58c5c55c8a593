import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../support/tmp.js';

// The hook replaces Node's CommonJS compile for the whole process, so each case runs in a node of
// its own, with the built module (`npm test` builds first), as bin/run.js installs it.
const CODE_CACHE = fileURLToPath(new URL('../../dist/src/startup/codeCache.js', import.meta.url));

let root: string;
let cacheHome: string;
let lib: string;

beforeEach(async () => {
  root = await makeTempDir('gsync-codecache-');
  cacheHome = join(root, 'cache');
  lib = join(root, 'lib');
  mkdirSync(lib);
  writeFileSync(join(lib, 'helper.cjs'), "module.exports = { twice: (n) => n * 2 };\n");
  writeFileSync(
    join(lib, 'main.cjs'),
    [
      "const { twice } = require('./helper.cjs');",
      "const path = require('node:path');",
      "exports.answer = () => twice(21);",
      "exports.where = () => path.basename(__dirname) + ' ' + path.basename(require.resolve('./helper.cjs'));",
      '',
    ].join('\n'),
  );
});

afterEach(async () => {
  await removeTempDir(root);
});

/**
 * Runs a node that installs the cache (told that `withoutImport` files have no import()) and
 * requires main.cjs; its stdout, which must come with an empty stderr.
 */
function run(env: NodeJS.ProcessEnv = {}, withoutImport: string[] = []): string {
  const script = [
    `import { useCodeCache } from ${JSON.stringify(CODE_CACHE)};`,
    "import { createRequire } from 'node:module';",
    `useCodeCache(process.env, { withoutImport: ${JSON.stringify(withoutImport)} });`,
    `const main = createRequire(import.meta.url)(${JSON.stringify(join(lib, 'main.cjs'))});`,
    "console.log(main.answer(), main.where());",
  ].join('\n');
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, HOME: join(root, 'home'), XDG_CACHE_HOME: cacheHome, ...env },
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.trim();
}

function cacheDir(): string {
  const [versioned] = readdirSync(join(cacheHome, 'gsync'));
  return join(cacheHome, 'gsync', versioned!);
}

/** Each cache file's inode: a file made again is a new inode (written beside it, then renamed). */
function inodes(): Map<string, number> {
  const dir = cacheDir();
  return new Map(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).ino]));
}

describe('the compiled-code cache', () => {
  it('saves each CommonJS module a run compiled, for this user only, and the next run takes it as it is', () => {
    expect(run()).toBe('42 lib helper.cjs');
    const dir = cacheDir();
    expect(dir).toBe(join(cacheHome, 'gsync', `v8-${process.version}-${process.arch}`));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const first = inodes();
    expect(first.size).toBe(2);
    for (const name of first.keys()) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);

    expect(run()).toBe('42 lib helper.cjs');
    expect(inodes()).toStrictEqual(first);
  });

  it('never runs code saved for another source, even one of the same length', () => {
    run();
    const before = inodes();
    // V8 itself checks only the source's length: this edit keeps it.
    writeFileSync(join(lib, 'helper.cjs'), "module.exports = { twice: (n) => n * 3 };\n");
    expect(run()).toBe('63 lib helper.cjs');
    const after = inodes();
    expect([...after].filter(([name, ino]) => before.get(name) !== ino)).toHaveLength(1);
    expect(run()).toBe('63 lib helper.cjs');
    expect(inodes()).toStrictEqual(after);
  });

  it('compiles as Node does when a saved file is damaged, and saves it again', () => {
    run();
    const dir = cacheDir();
    const before = inodes();
    for (const name of before.keys()) {
      const bytes = readFileSync(join(dir, name));
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
      writeFileSync(join(dir, name), bytes);
    }
    expect(run()).toBe('42 lib helper.cjs');
    const after = inodes();
    for (const [name, ino] of before) expect(after.get(name)).not.toBe(ino);
  });

  it('neither reads nor writes a cache dir others may write to', () => {
    mkdirSync(join(cacheHome, 'gsync', `v8-${process.version}-${process.arch}`), { recursive: true });
    chmodSync(cacheDir(), 0o777);
    expect(run()).toBe('42 lib helper.cjs');
    expect(readdirSync(cacheDir())).toStrictEqual([]);
  });

  it('leaves a module with a dynamic import() to Node, and still caches the rest', () => {
    writeFileSync(join(lib, 'main.cjs'), `${readFileSync(join(lib, 'main.cjs'), 'utf8')}exports.later = () => import('node:os');\n`);
    expect(run()).toBe('42 lib helper.cjs');
    expect(inodes().size).toBe(1);
  });

  it('caches a file built without import() though its text says import(', () => {
    // As oclif's messages do in the one-file build (scripts/bundle.ts), where every import() became a require().
    writeFileSync(join(lib, 'main.cjs'), `${readFileSync(join(lib, 'main.cjs'), 'utf8')}exports.said = 'import() failed';\n`);
    expect(run()).toBe('42 lib helper.cjs');
    expect(inodes().size).toBe(1);
    expect(run({}, [join(lib, 'main.cjs')])).toBe('42 lib helper.cjs');
    expect(inodes().size).toBe(2);
  });

  it('saves on demand, for a thread that ends without an exit event, and only what is not saved yet', () => {
    // A thread the pool terminates (workerThread.ts) never sees 'exit'; SIGKILL stands in for that here.
    const killedAfter = (save: boolean): NodeJS.Signals | null => {
      const script = [
        `import { saveCodeCache, useCodeCache } from ${JSON.stringify(CODE_CACHE)};`,
        "import { createRequire } from 'node:module';",
        'useCodeCache(process.env);',
        `createRequire(import.meta.url)(${JSON.stringify(join(lib, 'main.cjs'))}).answer();`,
        save ? 'saveCodeCache();' : '',
        "process.kill(process.pid, 'SIGKILL');",
      ].join('\n');
      const env = { PATH: process.env.PATH, HOME: join(root, 'home'), XDG_CACHE_HOME: cacheHome };
      return spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' }).signal;
    };
    expect(killedAfter(false)).toBe('SIGKILL');
    expect(readdirSync(cacheDir())).toStrictEqual([]);
    expect(killedAfter(true)).toBe('SIGKILL');
    const saved = inodes();
    expect(saved.size).toBe(2);
    // Taken as saved, so not saved again.
    expect(killedAfter(true)).toBe('SIGKILL');
    expect(inodes()).toStrictEqual(saved);
  });
});
