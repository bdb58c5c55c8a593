/** How a run rides out a link that drops or stalls: `retries` attempts in a row without progress, spaced by backoff. */
export interface RetryPolicy {
  readonly retries: number;
  readonly baseMs: number;
  readonly capMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 5, baseMs: 500, capMs: 30_000 };

/**
 * The wait before retry number `attempt` (0-based): exponential, capped, with "full jitter"
 * (a random share of it), so that several workers that lost the same link do not reconnect in
 * lockstep. `random` is in [0, 1).
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
