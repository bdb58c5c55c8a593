import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { saveCodeCache, useCodeCache } from '../startup/codeCache.js';
import type { BlockTask, FetchTask, TarTask, TaskResult } from './protocol.js';

// The pool's thread: the worker as one CommonJS file (scripts/bundle.ts), its code and ssh2's as
// compiled by earlier runs (codeCache.ts).
const worker = fileURLToPath(new URL('./worker.cjs', import.meta.url));
useCodeCache(process.env, { withoutImport: [worker] });
const { default: runTask } = createRequire(import.meta.url)(worker) as typeof import('./worker.js');

/**
 * Runs a task, then saves the code compiled for it if there was none cached (once: later calls
 * find nothing to save). Not at exit: the pool terminates its threads, and a terminated thread
 * has no exit event.
 */
export default async function run(task: FetchTask | BlockTask | TarTask): Promise<TaskResult> {
  try {
    return await runTask(task);
  } finally {
    saveCodeCache();
  }
}
