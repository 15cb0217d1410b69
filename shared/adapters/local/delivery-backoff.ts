import { ConfigError } from '../../errors.js';

/** Retry timing of one push subscription (Pub/Sub's RetryPolicy, in milliseconds). */
export interface BackoffPolicy {
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** A push subscription's retry policy and when it gives up (dead-letters). */
export interface RetryPolicy extends BackoffPolicy {
  readonly maxDeliveryAttempts: number;
  /** Named in error messages; a subscription or function name. */
  readonly name?: string;
}

/**
 * The shortest wait after `failedAttempts` failures (≥ 1): the minimum backoff
 * doubled per failure, capped at the maximum, i.e. min(max, min · 2^(n−1)).
 * Pub/Sub's push retries grow exponentially from `minimum_backoff` to
 * `maximum_backoff`; its docs give no exact formula, so doubling is an
 * assumption here (the usual reading). The local bus never waits less than
 * this, so the same horizon holds for both.
 */
export function backoffFloorMs(policy: BackoffPolicy, failedAttempts: number): number {
  const { minBackoffMs: min, maxBackoffMs: max } = policy;
  // The exponent is capped so 2^n stays finite for absurd attempt counts.
  const exponent = Math.min(Math.max(failedAttempts, 1) - 1, 30);
  return Math.min(max, min * 2 ** exponent);
}

/**
 * Delay before the next delivery after `failedAttempts` failures (≥ 1):
 * exponential, with jitter upward only, never above the maximum.
 *
 *   floor   = min(max, min · 2^(n−1))      (backoffFloorMs)
 *   ceiling = min(max, min · 2^n)
 *   delay   = floor + random · (ceiling − floor)
 *
 * So the first retry waits between min and 2·min, the next between 2·min and
 * 4·min, and so on until the cap. The jitter keeps many failed deliveries
 * from retrying in lockstep against a recovering receiver; it only ever adds,
 * so the floor (and with it `retryHorizonMs`) is a guarantee. At the cap
 * floor = ceiling: the spread earlier jitter put between deliveries carries on.
 */
export function retryDelayMs(
  policy: BackoffPolicy,
  failedAttempts: number,
  random: () => number = Math.random,
): number {
  const floor = backoffFloorMs(policy, failedAttempts);
  const ceiling = backoffFloorMs(policy, failedAttempts + 1);
  return Math.round(floor + random() * Math.max(0, ceiling - floor));
}

/**
 * The guaranteed time from a message's first delivery attempt until it is
 * dead-lettered: the shortest waits between its `maxDeliveryAttempts`
 * attempts, summed (attempts − 1 waits; an attempt itself may fail at once,
 * so it adds nothing guaranteed). Jitter and slow answers only lengthen it.
 *
 * Example: Pub/Sub's 10 s → 600 s with 15 attempts:
 * 10 + 20 + 40 + 80 + 160 + 320 + 8 · 600 = 5430 s.
 */
export function retryHorizonMs(policy: RetryPolicy): number {
  let horizon = 0;
  for (let failed = 1; failed < policy.maxDeliveryAttempts; failed++) {
    horizon += backoffFloorMs(policy, failed);
  }
  return horizon;
}

/**
 * The invariant of DESIGN.md §4 "Convergence and truth": the bus's retry
 * horizon outlasts a lease. A duplicate delivery that finds a step still
 * leased answers non-2xx and comes back later; if the holder died, its lease
 * lapses within `leaseMs`, and a redelivery must still come after that, with
 * margin (twice the lease), or the message is dead-lettered while the run
 * waits for it. Throws a ConfigError naming both numbers otherwise.
 */
export function assertRetryHorizonOutlasts(args: {
  readonly leaseMs: number;
  readonly subscription: RetryPolicy;
}): void {
  const { leaseMs, subscription } = args;
  const horizon = retryHorizonMs(subscription);
  if (horizon > 2 * leaseMs) return;
  const name = subscription.name === undefined ? 'a subscription' : subscription.name;
  throw new ConfigError([
    `${name}: retry horizon ${horizon} ms (${subscription.maxDeliveryAttempts} attempts, ` +
      `backoff ${subscription.minBackoffMs}–${subscription.maxBackoffMs} ms) must exceed ` +
      `twice the lease of ${leaseMs} ms (${2 * leaseMs} ms), so a redelivery comes after a ` +
      "dead holder's lease has lapsed",
  ]);
}
