import { afterEach, describe, expect, it, vi } from 'vitest';
import { shareBandwidth, TokenBucket, type BucketClock } from '../../src/transfer/bandwidth.js';
import { StallWatch } from '../../src/transfer/stallWatch.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SECOND = 1_000_000_000n;
/** OpenSSH's largest READ: what a read-loop lane asks for. */
const CHUNK = 255 * KiB;

/** A clock the test moves by hand; a sleep moves it on by the time slept (one taker at a time). */
function manualClock(start = 5n * SECOND): BucketClock & { at: bigint } {
  const clock = {
    at: start,
    now: () => clock.at,
    sleep: async (ns: bigint) => {
      clock.at += ns;
    },
  };
  return clock;
}

function seconds(ns: bigint): number {
  return Number(ns) / 1e9;
}

describe('TokenBucket: the accounting of one shared --bwlimit budget', () => {
  it('starts empty: the first bytes wait for their share of the rate', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(shareBandwidth(MiB, clock), clock);
    const { granted, waitNs } = bucket.reserve(64 * KiB);
    expect(granted).toBe(64 * KiB);
    expect(seconds(waitNs)).toBeCloseTo(1 / 16, 6);
  });

  it('grants at most 1/16 s of the rate (1 KiB at the least), never more than asked, and at least 1 byte', () => {
    const clock = manualClock();
    const fast = new TokenBucket(shareBandwidth(MiB, clock), clock);
    expect(fast.grant).toBe(64 * KiB);
    expect(fast.reserve(CHUNK).granted).toBe(64 * KiB);
    expect(fast.reserve(100).granted).toBe(100);
    expect(fast.reserve(0).granted).toBe(1);
    const slow = new TokenBucket(shareBandwidth(4 * KiB, clock), clock);
    expect(slow.grant).toBe(KiB);
  });

  it('takes exactly as long as the rate says, one taker after another', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket(shareBandwidth(2 * MiB, clock), clock);
    const start = clock.at;
    let bytes = 0;
    while (bytes < 10 * MiB) bytes += await bucket.take(CHUNK);
    expect(bytes).toBe(10 * MiB);
    expect(seconds(clock.at - start)).toBeCloseTo(5, 6);
  });

  it('saves up at most its burst while idle: 1 s of the rate, or 256 KiB when that is more', () => {
    for (const { rate, burst } of [
      { rate: 4 * MiB, burst: 4 * MiB },
      { rate: 64 * KiB, burst: 256 * KiB },
    ]) {
      const clock = manualClock();
      const bucket = new TokenBucket(shareBandwidth(rate, clock), clock);
      expect(bucket.burst).toBe(burst);
      clock.at += 3600n * SECOND;
      let atOnce = 0;
      for (let r = bucket.reserve(bucket.grant); r.waitNs === 0n; r = bucket.reserve(bucket.grant)) atOnce += r.granted;
      expect(atOnce, `at ${rate} B/s`).toBe(burst);
    }
  });

  it('holds 4 workers of 16 READs in flight each to the rate together, in any window, each getting its share', () => {
    const rate = 8 * MiB;
    const clock = manualClock();
    const share = shareBandwidth(rate, clock);
    const workers = Array.from({ length: 4 }, () => new TokenBucket(share, clock));
    const lanes = workers.flatMap((bucket, worker) => Array.from({ length: 16 }, () => ({ bucket, worker, readyAt: clock.at })));
    const start = clock.at;
    const end = start + 10n * SECOND;
    const rttNs = 2_000_000n;
    const sent: Array<{ at: bigint; bytes: number; worker: number }> = [];
    for (;;) {
      const lane = lanes.reduce((a, b) => (b.readyAt < a.readyAt ? b : a));
      if (lane.readyAt >= end) break;
      clock.at = lane.readyAt;
      const { granted, waitNs } = lane.bucket.reserve(CHUNK);
      const issued = clock.at + waitNs;
      sent.push({ at: issued, bytes: granted, worker: lane.worker });
      lane.readyAt = issued + rttNs;
    }
    sent.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    let total = 0;
    for (const { at, bytes } of sent) {
      total += bytes;
      // Every READ sent by any instant was paid for by then: the budget starts empty, so no burst.
      expect(total).toBeLessThanOrEqual(rate * seconds(at - start) + 1);
    }
    const inTime = sent.filter((s) => s.at <= end).reduce((sum, s) => sum + s.bytes, 0);
    expect(inTime).toBeGreaterThanOrEqual(rate * 10 - lanes.length * workers[0]!.grant);
    for (let worker = 0; worker < workers.length; worker++) {
      const mine = sent.filter((s) => s.worker === worker).reduce((sum, s) => sum + s.bytes, 0);
      expect(mine / total, `worker ${worker}'s share`).toBeGreaterThan(0.2);
    }
  });

  it('is shared through its SharedArrayBuffer: a handle made from a copy of the share (as a worker gets it) spends the same budget', () => {
    const clock = manualClock();
    const share = shareBandwidth(MiB, clock);
    const here = new TokenBucket(share, clock);
    const there = new TokenBucket(structuredClone(share), clock);
    const first = here.reserve(64 * KiB);
    const second = there.reserve(64 * KiB);
    expect(seconds(second.waitNs - first.waitNs)).toBeCloseTo(1 / 16, 6);
  });
});

/** On the global timers, which the fake timers drive. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('StallWatch: waiting on the budget is not a stall', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not tear the connection down while READs are held back, however long, and counts again after', async () => {
    vi.useFakeTimers();
    const watch = new StallWatch(1000);
    const tornDown = vi.fn();
    const work = watch.guard(async () => {
      await watch.holding(sleep(10_000));
      return 'done';
    }, tornDown);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(work).resolves.toBe('done');
    expect(tornDown).not.toHaveBeenCalled();
    expect(watch.stalled).toBe(false);

    const silent = watch.guard(async () => {
      await watch.holding(sleep(5000));
      await sleep(5000);
    }, tornDown);
    await vi.advanceTimersByTimeAsync(10_000);
    await silent;
    expect(tornDown).toHaveBeenCalledOnce();
    expect(watch.stalled).toBe(true);
  });
});
