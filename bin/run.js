#!/usr/bin/env node
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { useCodeCache } from '../dist/src/startup/codeCache.js';

// The CLI, oclif included, as one file (scripts/bundle.ts).
const main = fileURLToPath(new globalThis.URL('../dist/src/cli/main.cjs', import.meta.url));
// Before it loads: V8 takes its code as compiled by an earlier run (codeCache.ts).
useCodeCache(process.env, { withoutImport: [main] });
const cli = createRequire(import.meta.url)(main);

// Output that cannot be written (`> /dev/full`) is dropped and said at exit, not a crash mid-run.
cli.guardStdout();
cli.exitIfWorkingDirGone();

// A pull starts logging in before oclif parses the command line (headStart.ts): the two overlap.
await cli.startHeadStart(process.argv.slice(2), new globalThis.URL('../oclif.manifest.json', import.meta.url));
try {
  await cli.execute({ dir: import.meta.url });
} finally {
  cli.dropHeadStart();
}
