import { setTimeout as sleep } from 'node:timers/promises';

/**
 * --bwlimit: one budget for the whole run, shared by every transfer worker through a
 * SharedArrayBuffer, so that N connections together stay at the rate.
 *
 * The bucket is one number, `spentUntil`: an instant (ns on the monotonic clock, which every
 * thread of the process reads alike) up to which the budget is spent. The bytes available now
 * are (now − spentUntil) × rate, capped at the burst: idle time earns no more than that. Taking
 * g bytes moves spentUntil on by g / rate in one compare-and-swap; when that lands in the future,
 * the taker waits until then before it sends its READ. Takers queue in the order of their swaps,
 * each on its own timer: no lock, no polling, no message between threads.
 *
 *   take(wanted):
 *     g ← min(wanted, grant)
 *     repeat: s ← spentUntil; next ← max(s, now − burst/rate) + g/rate   until CAS(spentUntil, s → next)
 *     wait until next; return g
 *
 * The budget starts spent up to the moment it is made (an empty bucket): the rate holds from the
 * first byte, with no opening burst.
 */
export interface BandwidthShare {
  /** 8 bytes: spentUntil, as a BigInt64. */
  readonly state: SharedArrayBuffer;
  readonly bytesPerSecond: number;
}

/** A clock in ns and a way to wait on it; tests give their own. */
export interface BucketClock {
  now(): bigint;
  sleep(ns: bigint): Promise<void>;
}

/** A bit more than one READ (OpenSSH serves up to 255 KiB): a budget smaller than a READ could never let one through whole. */
const BURST_FLOOR = 256 * 1024;

/**
 * A grant is at most 1/16 s of the rate: at 100 KiB/s a whole 255 KiB READ would be a 2.5 s gulp,
 * and 16 READs in flight on each of 4 connections would queue 160 s of budget between them; grants
 * of 1/16 s queue 4 s at most, and the flow stays smooth.
 */
const GRANTS_PER_SECOND = 16;
/** Smaller READs cost more in headers than they carry. */
const MIN_GRANT = 1024;

const monotonic: BucketClock = {
  now: () => process.hrtime.bigint(),
  sleep: (ns) => sleep(Math.ceil(Number(ns) / 1e6)),
};

/** A fresh, empty budget of `bytesPerSecond`, to hand to every worker. */
export function shareBandwidth(bytesPerSecond: number, clock: BucketClock = monotonic): BandwidthShare {
  if (!(bytesPerSecond > 0)) throw new RangeError(`a bandwidth budget needs a positive rate, not ${bytesPerSecond}`);
  const state = new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT);
  Atomics.store(new BigInt64Array(state), 0, clock.now());
  return { state, bytesPerSecond };
}

/** One thread's handle on a shared budget. */
export class TokenBucket {
  readonly #spentUntil: BigInt64Array;
  readonly #rate: number;
  readonly #burstNs: bigint;
  readonly #clock: BucketClock;
  /** The most one take hands out, in bytes. */
  readonly grant: number;
  /** The most the budget saves up while nobody takes, in bytes. */
  readonly burst: number;

  constructor(share: BandwidthShare, clock: BucketClock = monotonic) {
    this.#spentUntil = new BigInt64Array(share.state);
    this.#rate = share.bytesPerSecond;
    this.#clock = clock;
    this.grant = Math.max(MIN_GRANT, Math.floor(share.bytesPerSecond / GRANTS_PER_SECOND));
    this.burst = Math.max(BURST_FLOOR, Math.ceil(share.bytesPerSecond));
    this.#burstNs = this.#nsFor(this.burst);
  }

  /** Up to `wanted` bytes (at least 1), handed out once the budget has them: the caller then reads that many, no more. */
  async take(wanted: number): Promise<number> {
    const { granted, waitNs } = this.reserve(wanted);
    if (waitNs > 0n) await this.#clock.sleep(waitNs);
    return granted;
  }

  /** The accounting of take(), without the wait: how many bytes are granted and how long until they may be read. */
  reserve(wanted: number): { granted: number; waitNs: bigint } {
    const granted = Math.max(1, Math.min(Math.floor(wanted), this.grant));
    const cost = this.#nsFor(granted);
    for (;;) {
      const now = this.#clock.now();
      const spent = Atomics.load(this.#spentUntil, 0);
      const earliest = now - this.#burstNs;
      const next = (spent > earliest ? spent : earliest) + cost;
      if (Atomics.compareExchange(this.#spentUntil, 0, spent, next) === spent) return { granted, waitNs: next > now ? next - now : 0n };
    }
  }

  #nsFor(bytes: number): bigint {
    return BigInt(Math.ceil((bytes * 1e9) / this.#rate));
  }
}
