/** Retry timing of one push subscription (Pub/Sub's RetryPolicy, in milliseconds). */
export interface BackoffPolicy {
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

/**
 * Delay before the next delivery after `failedAttempts` failures (≥ 1):
 * exponential with full jitter, never below the minimum (Pub/Sub's
 * `minimum_backoff` is a floor) nor above the maximum.
 *
 *   ceiling = min(max, min · 2^failedAttempts)
 *   delay   = min + random · (ceiling − min)
 *
 * So the first retry waits between min and 2·min, the next up to 4·min, and
 * so on until the cap; the jitter keeps many failed deliveries from retrying
 * in lockstep against a recovering receiver.
 */
export function retryDelayMs(
  policy: BackoffPolicy,
  failedAttempts: number,
  random: () => number = Math.random,
): number {
  const { minBackoffMs: min, maxBackoffMs: max } = policy;
  // The exponent is capped so 2^n stays finite for absurd attempt counts.
  const ceiling = Math.min(max, min * 2 ** Math.min(Math.max(failedAttempts, 1), 30));
  return Math.round(min + random() * Math.max(0, ceiling - min));
}
