import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// setpriority(2) on a thread is the process's to feel: each case runs in a node of its own, with
// the built module (`npm test` builds first), as bin/run.js calls it.
const HELPER_THREADS = fileURLToPath(new URL('../../dist/src/startup/helperThreads.js', import.meta.url));

/** A thread's nice value, from /proc (field 19 of its stat line, the 17th after the name). */
const NICE_OF = "(path) => Number(readFileSync(path, 'utf8').replace(/^.*\\) /s, '').split(' ')[16])";

interface Priorities {
  readonly main: number;
  readonly others: number[];
  readonly later: number;
}

function prioritiesAfter(lower: boolean): Priorities {
  const script = [
    `import { lowerHelperThreads } from ${JSON.stringify(HELPER_THREADS)};`,
    "import { readdirSync, readFileSync } from 'node:fs';",
    "import { Worker } from 'node:worker_threads';",
    `const niceOf = ${NICE_OF};`,
    lower ? 'lowerHelperThreads();' : '',
    "const tids = readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== process.pid);",
    'const main = niceOf(`/proc/self/task/${process.pid}/stat`);',
    'const others = tids.map((tid) => niceOf(`/proc/self/task/${tid}/stat`));',
    // A thread started afterwards, as the transfer workers are: it reads its own.
    "const worker = new Worker(`import { readFileSync } from 'node:fs'; import { parentPort } from 'node:worker_threads'; parentPort.postMessage((${niceOf})('/proc/thread-self/stat'));`, { eval: true });",
    "worker.once('message', (later) => { console.log(JSON.stringify({ main, others, later })); void worker.terminate(); });",
  ].join('\n');
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as Priorities;
}

describe.runIf(process.platform === 'linux')('lowerHelperThreads', () => {
  it('puts the threads Node started before it at the lowest priority, and neither the main thread nor one started later', () => {
    const before = prioritiesAfter(false);
    // V8's platform threads at least, all at the usual priority to begin with.
    expect(before.others.length).toBeGreaterThanOrEqual(4);
    expect(new Set(before.others)).toStrictEqual(new Set([before.main]));

    const after = prioritiesAfter(true);
    expect(after.others.length).toBe(before.others.length);
    expect(new Set(after.others)).toStrictEqual(new Set([19]));
    expect(after.main).toBe(before.main);
    expect(after.later).toBe(before.main);
  });
});
