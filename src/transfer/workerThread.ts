import { useCodeCache } from '../startup/codeCache.js';

// The pool's thread: V8's code from earlier runs first (codeCache.ts), then the worker, which loads ssh2.
useCodeCache();
const { default: runTask } = await import('./worker.js');
export default runTask;
