/**
 * Builds dist/src/cli/main.cjs, the file bin/run.js loads: the CLI as tsc emitted it, with oclif
 * and the other pure-JS dependencies, in one CommonJS file; and dist/src/transfer/worker.cjs,
 * the same for each transfer worker thread (workerThread.ts). As ~275 modules (109 of them ES
 * modules, which Node 20 compiles on every start), every run found, read and linked each one: a
 * no-op run of 20,000 files took 578 ms and 0.73 s of CPU, against 492 ms and 0.59 s from one
 * file compiled from V8's cache (codeCache.ts). Run after tsc.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The worker's 30 ES modules, compiled from source at every thread start, cost a pull of one
 * 50 MiB file 0.06 s of CPU and ~40 ms (540 -> 501 ms once bundled, 11 reps alternated).
 */
const bundles = [
  { entry: 'dist/src/cli/main.js', outfile: 'dist/src/cli/main.cjs' },
  { entry: 'dist/src/transfer/worker.js', outfile: 'dist/src/transfer/worker.cjs' },
];

for (const { entry, outfile } of bundles) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Left on disk, loaded as Node loads them: native code found by relative path (better-sqlite3,
    // ssh2), a package that starts threads from its own files (piscina), and oclif's optional
    // TypeScript support, which gsync never uses.
    external: ['better-sqlite3', 'ssh2', 'piscina', 'typescript'],
    // Every import() becomes a require(): V8's code cache compiles through vm.Script, which cannot
    // run an import() on Node 20 without an experimental flag (codeCache.ts).
    supported: { 'dynamic-import': false },
    // The one module URL the code asks for is a place to resolve files and packages from: each
    // bundle sits beside the module it starts from. Strict, as the ES modules it is made of.
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: '"use strict";\nvar __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'silent',
  });
  if (result.warnings.length > 0 || result.errors.length > 0) {
    for (const message of [...result.errors, ...result.warnings]) console.error(message.text);
    process.exit(1);
  }
}
