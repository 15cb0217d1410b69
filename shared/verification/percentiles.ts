/**
 * Latency percentiles by the nearest-rank method: the p-th percentile of n
 * samples is the ⌈p/100 · n⌉-th smallest. Every reported value is one that
 * was actually measured (no interpolation), and with 50 samples p99 is the
 * slowest request: one pathological answer is enough to fail the budget,
 * which is what a pre-promotion check should notice.
 */

/** The nearest-rank `p`-th percentile (0 < p ≤ 100) of `samples`; throws on an empty list. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** p50 and p99 of `samples`. */
export function latencySummary(samples: readonly number[]): { p50: number; p99: number } {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}
