#!/usr/bin/env node
import { useCodeCache } from '../dist/src/startup/codeCache.js';
import { dropHeadStart, startHeadStart } from '../dist/src/cli/headStart.js';
import { guardStdout } from '../dist/src/cli/stdout.js';
import { exitIfWorkingDirGone } from '../dist/src/cli/workingDir.js';

// Before any dependency loads: V8 takes their code as compiled by an earlier run (codeCache.ts).
useCodeCache();
// Output that cannot be written (`> /dev/full`) is dropped and said at exit, not a crash mid-run.
guardStdout();
exitIfWorkingDirGone();

// A pull starts logging in before oclif loads (headStart.ts): the two overlap.
await startHeadStart(process.argv.slice(2), new globalThis.URL('../oclif.manifest.json', import.meta.url));
const { execute } = await import('@oclif/core/execute');
try {
  await execute({ dir: import.meta.url });
} finally {
  dropHeadStart();
}
