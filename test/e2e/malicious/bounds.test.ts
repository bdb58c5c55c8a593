import { describe, it } from 'vitest';
import { pseudoRandomBytes } from '../../support/trees.js';
import { oneRun, runScenario, suiteKeys, type Scenario } from './harness.js';
import { ENDLESS_NAMES_PER_REPLY } from './hostileServer.js';
import { dir, file } from './vfs.js';

/**
 * Issue 8, bounds: a server that never stops talking, or stops answering after the login.
 * Every run must end by itself: an endless listing within the bounds gsync sets (entries per
 * directory, bytes of names, time per listing) with a non-zero code; a stall with exit 30 within
 * --timeout plus a few seconds. `--retries 0` so one stall ends the run (retrying a server that
 * stalls every time only multiplies the wait).
 */

const keys = suiteKeys();
const STALL_TIMEOUT_S = 2;
/** --timeout, plus room for gsync to start (~0.5 s), log in and tear down: "a few seconds". */
const STALL_WITHIN_MS = (STALL_TIMEOUT_S + 5) * 1000;
const STALL_FLAGS = ['--timeout', String(STALL_TIMEOUT_S), '--retries', '0'];
const STALL_HARD_TIMEOUT_MS = 10_000;
const stalled = { exit: [30], withinMs: STALL_WITHIN_MS, hardTimeoutMs: STALL_HARD_TIMEOUT_MS } as const;

const endless: Scenario = oneRun(
  'a directory whose listing never ends (500 new 100-byte names per READDIR, never EOF) is cut off by a bound: the run ends by itself, non-zero, under 1 GiB',
  () => [dir('flood', [], { endless: true })],
  {
    exit: 'non-zero',
    hardTimeoutMs: 15_000,
    // Only for a run that failed anyway: how far the flood got, to size the bounds against.
    check: ({ result, server }) => {
      if (!result.timedOut && !result.rssKilled) return [];
      const replies = server.requests.filter((r) => r.type === 'READDIR' && r.path.endsWith('/flood')).length;
      return [`by then the server had sent ${replies * ENDLESS_NAMES_PER_REPLY} names in ${replies} READDIR replies for flood/`];
    },
  },
);

const LIMITED = pseudoRandomBytes('limited.bin', 2 * 1024 * 1024);
/** What 2 MiB takes in READs of at least 32 KiB (the floor), with room for probes and re-reads; 1-byte READs would take 2 million. */
const LIMITED_MOST_READS = 2 * (LIMITED.length / (32 * 1024)) + 32;

const tinyReadLimit: Scenario = oneRun(
  'a server offering limits@openssh.com with a 1-byte read length: the offer is ignored (a floor of 32 KiB), the file arrives in a few dozen READs',
  () => [file('limited.bin', LIMITED)],
  {
    exit: [0],
    arrives: { 'limited.bin': LIMITED },
    hardTimeoutMs: 30_000,
    check: ({ server }) => {
      const reads = server.requests.filter((r) => r.type === 'READ' && r.path.endsWith('/limited.bin')).length;
      return reads <= LIMITED_MOST_READS ? [] : [`limited.bin took ${reads} READs, more than ${LIMITED_MOST_READS}: the tiny read length was obeyed`];
    },
  },
  { behaviour: { readLimit: 1 } },
);

const manyEntries: Scenario = oneRun(
  'a tree with more entries in all than --max-entries (30 directories of 200 files, bound 2,000): listing stops there, reported, the run ends by itself with exit 23',
  () => [dir('wide', Array.from({ length: 30 }, (_, d) => dir(`d${d}`, Array.from({ length: 200 }, (_, f) => file(`f${f}.txt`, `${d}/${f}\n`)))))],
  {
    exit: [23],
    check: ({ stdout }) => (/too-large: .*--max-entries raises the limit/.test(stdout) ? [] : ['no too-large problem naming --max-entries in the closing lines']),
  },
  { flags: ['--max-entries', '2000'] },
);

const stalls: Scenario[] = [
  oneRun('a server that never answers the SFTP subsystem request after the login: exit 30 within --timeout plus a few seconds', () => [], { ...stalled, okTxt: false }, {
    flags: STALL_FLAGS,
    behaviour: { stallSftp: 'every' },
  }),
  oneRun(
    "a server that answers the first connection's SFTP request but never a worker connection's: exit 30 within --timeout plus a few seconds",
    () => [],
    { ...stalled, okTxt: false },
    { flags: STALL_FLAGS, behaviour: { stallSftp: 'after-first' } },
  ),
  oneRun('a READDIR never answered (in slow/): exit 30 within --timeout plus a few seconds, ok.txt still arrives', () => [dir('slow', [file('never.txt', 'never listed\n')], { stallReaddir: true })], stalled, {
    flags: STALL_FLAGS,
  }),
  oneRun('a file OPEN never answered (sub/slow.bin): exit 30 within --timeout plus a few seconds, ok.txt still arrives', () => [dir('sub', [file('slow.bin', 'never sent\n', { stallOpen: true })])], stalled, {
    flags: STALL_FLAGS,
  }),
];

describe('bounds', () => {
  it(endless.title, () => runScenario(endless, keys()));
  it(tinyReadLimit.title, () => runScenario(tinyReadLimit, keys()));
  it(manyEntries.title, () => runScenario(manyEntries, keys()));
  // Stalls wait, they do not work: run side by side, they cost the suite one stall's time.
  describe.concurrent('stalls after the login', () => {
    for (const scenario of stalls) it(scenario.title, () => runScenario(scenario, keys()));
  });
});
