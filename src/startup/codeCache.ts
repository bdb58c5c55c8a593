import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Module from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * V8's compiled code for the one-file builds (the CLI's and the transfer worker's) and the
 * CommonJS dependencies left out of them (ssh2, better-sqlite3's JS), kept between runs. Node 20
 * compiles every module's source on every start: for a no-op re-run of 20,000 files that was
 * ~60 ms of a main thread busy from start to end. The code a run compiled is saved as it exits, functions compiled while running included
 * (V8's code cache after execution), and the next run's V8 takes it instead of compiling.
 *
 * It lives in the user's cache dir (XDG_CACHE_HOME, else ~/.cache), in a directory of their own
 * that nobody else may write: V8 runs what it reads there. A file is used only for the exact
 * source it was made from (its SHA-1) and only whole (the data's own SHA-1); anything else is
 * compiled as before and the file made again. Nothing here ever fails a run: no cache dir, an
 * unsafe one, a full disk, all mean compiling as Node does.
 */

/** What a cache file starts with: SHA-1 of the module's source, then of the V8 data that follows. */
const HASH_BYTES = 20;

interface Compiled {
  readonly script: Script;
  readonly file: string;
  readonly sourceHash: Buffer;
}

type Compile = (this: Module, content: string, filename: string, ...rest: unknown[]) => unknown;

let installed = false;
/** Modules compiled without usable cached data, whose code is still to be saved. */
let toSave: Compiled[] = [];

export interface CodeCacheOptions {
  /**
   * Files built with every import() made a require() (scripts/bundle.ts): cached even though
   * their text has `import(` (oclif's messages and its loader for ES plugins, which gsync has none of).
   */
  readonly withoutImport?: readonly string[];
}

/** Installs the cache for this process's CommonJS modules from now on; saves what was compiled at exit. */
export function useCodeCache(env: NodeJS.ProcessEnv = process.env, options: CodeCacheOptions = {}): void {
  if (installed) return;
  const withoutImport = new Set(options.withoutImport);
  const dir = cacheDir(env);
  if (!dir) return;
  installed = true;
  const prototype = Module.prototype as unknown as { _compile: Compile };
  const compile = prototype._compile;
  prototype._compile = function (this: Module, content: string, filename: string, ...rest: unknown[]): unknown {
    // Left to Node: anything but CommonJS, a hashbang (not valid once wrapped), a dynamic
    // import() (which a vm.Script cannot resolve as the module loader would), and whatever does
    // not compile as a script (Node's own compile says why, or runs it as ES module syntax).
    const format = rest[0];
    const dynamicImport = !withoutImport.has(filename) && content.includes('import(');
    if ((format !== undefined && format !== 'commonjs') || content.startsWith('#!') || dynamicImport) return compile.call(this, content, filename, ...rest);
    const sourceHash = sha1(content);
    const file = join(dir, sha1(filename).toString('hex'));
    const cachedData = cachedDataFor(file, sourceHash);
    let script: Script;
    try {
      script = new Script(Module.wrap(content), { filename, ...(cachedData ? { cachedData } : {}) });
    } catch {
      return compile.call(this, content, filename, ...rest);
    }
    if (!cachedData || script.cachedDataRejected === true) toSave.push({ script, file, sourceHash });
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, dirname(filename));
  };
  process.once('exit', saveCodeCache);
}

/**
 * Saves the code of the modules compiled so far, those that had none cached: at exit, and
 * earlier where a thread may end without one (piscina terminates its workers).
 */
export function saveCodeCache(): void {
  const compiled = toSave;
  toSave = [];
  save(compiled);
}

/** The cache dir for this Node, made if missing; undefined if it cannot be had or is not safe to run code from. */
function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const base = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME ?? homedir(), '.cache');
    const dir = join(base, 'gsync', `v8-${process.version}-${process.arch}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stats = lstatSync(dir);
    const ownerOnly = stats.isDirectory() && stats.uid === process.getuid?.() && (stats.mode & 0o022) === 0;
    return ownerOnly ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The V8 data saved for this source, if the file is whole and made from exactly it. */
function cachedDataFor(file: string, sourceHash: Buffer): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  if (bytes.length <= 2 * HASH_BYTES || !bytes.subarray(0, HASH_BYTES).equals(sourceHash)) return undefined;
  const data = bytes.subarray(2 * HASH_BYTES);
  return bytes.subarray(HASH_BYTES, 2 * HASH_BYTES).equals(sha1(data)) ? data : undefined;
}

/** Writes each module's code as compiled so far, whole or not at all (a temp file renamed). */
function save(compiled: readonly Compiled[]): void {
  for (const { script, file, sourceHash } of compiled) {
    const temp = `${file}.${randomBytes(6).toString('hex')}`;
    try {
      const data = script.createCachedData();
      writeFileSync(temp, Buffer.concat([sourceHash, sha1(data), data]), { mode: 0o600 });
      renameSync(temp, file);
    } catch {
      try {
        rmSync(temp, { force: true });
      } catch {
        // A temp file left behind costs its bytes, nothing else: no run reads it.
      }
    }
  }
}

function sha1(data: string | Buffer): Buffer {
  return createHash('sha1').update(data).digest();
}
