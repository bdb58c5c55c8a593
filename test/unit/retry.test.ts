import { describe, expect, it } from 'vitest';
import { backoffMs, defaultRetryPolicy } from '../../src/core/retry.js';

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
