import { describe, expect, it } from 'vitest';
import { backoffMs, defaultRetryPolicy, isTransient } from '../../src/core/retry.js';
import type { ErrorKind } from '../../src/errors/GsyncError.js';

describe('isTransient: which failures a new connection can cure', () => {
  const table: Array<[ErrorKind, boolean]> = [
    ['network', true],
    ['timeout', true],
    ['auth', false],
    ['hostkey', false],
    ['sftp', false],
    ['proxy', false],
    ['protocol', false],
    ['local-io', false],
    ['usage', false],
    ['interrupted', false],
    ['remote-path', false],
  ];
  it.each(table)('%s → %s', (kind, want) => expect(isTransient(kind)).toBe(want));
});

describe('backoffMs: exponential, capped, jittered', () => {
  const policy = { retries: 5, baseMs: 500, capMs: 4000 };
  it.each([
    [0, 0, 250],
    [0, 0.999, 500],
    [1, 0, 500],
    [2, 0.5, 1500],
    [3, 0, 2000],
    [4, 0, 2000],
    [10, 0.999, 3998],
  ])('attempt %i, random %f → %i ms', (attempt, random, want) => {
    expect(backoffMs(attempt, policy, random)).toBe(want);
  });

  it('never waits longer than the cap, nor less than half of the step', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      for (const random of [0, 0.25, 0.5, 0.99]) {
        const ms = backoffMs(attempt, defaultRetryPolicy, random);
        expect(ms).toBeLessThanOrEqual(defaultRetryPolicy.capMs);
        expect(ms).toBeGreaterThanOrEqual(Math.min(defaultRetryPolicy.capMs, defaultRetryPolicy.baseMs * 2 ** attempt) / 2);
      }
    }
  });
});
