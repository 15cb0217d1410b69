/**
 * The router's latency histogram: fixed logarithmic bucket bounds, the same
 * for every revision and every second, so the histograms of any window add
 * up bucket by bucket and its percentiles come from the sum (averaging
 * per-second percentiles would be wrong). Each bucket is 10% wider than the
 * one before, so a percentile read from it is within 10% of the true value.
 *
 * Bucket 0 holds latencies below 0.1 ms; bucket i ≥ 1 holds
 * [0.1·1.1^(i−1), 0.1·1.1^i) ms; the last one (about 4.8 h and up) is open.
 */

const FIRST_BOUND_MS = 0.1;
const GROWTH = 1.1;
/** Number of buckets; the last one also holds everything above its lower bound. */
export const LATENCY_BUCKET_COUNT = 200;

/** Bucket index → count; buckets without requests are absent. */
export type LatencyHistogram = Map<number, number>;

/** The bucket a latency falls in. */
export function latencyBucket(ms: number): number {
  if (!(ms >= FIRST_BOUND_MS)) return 0; // NaN and negatives too: never a crash on a clock step
  const index = 1 + Math.floor(Math.log(ms / FIRST_BOUND_MS) / Math.log(GROWTH));
  return Math.min(index, LATENCY_BUCKET_COUNT - 1);
}

/** The upper bound of bucket `index` in ms (what a percentile in it reports). */
export function bucketUpperBoundMs(index: number): number {
  return FIRST_BOUND_MS * GROWTH ** index;
}

/** Adds `from` into `into`. */
export function addHistogram(into: LatencyHistogram, from: ReadonlyMap<number, number>): void {
  for (const [bucket, count] of from) into.set(bucket, (into.get(bucket) ?? 0) + count);
}

/** Sparse JSON, `[[bucket, count], …]` in bucket order, as serving_revision_metrics stores it. */
export function encodeHistogram(histogram: ReadonlyMap<number, number>): string {
  return JSON.stringify([...histogram].sort(([a], [b]) => a - b));
}

export function decodeHistogram(text: string): LatencyHistogram {
  const histogram: LatencyHistogram = new Map();
  for (const [bucket, count] of JSON.parse(text) as [number, number][]) {
    histogram.set(bucket, (histogram.get(bucket) ?? 0) + count);
  }
  return histogram;
}

/**
 * The latency below which a share `q` (0–1) of the requests fell, as the
 * upper bound of the bucket holding that rank: never below the true value,
 * at most one bucket width (10%) above it. Undefined for an empty histogram.
 */
export function percentileMs(
  histogram: ReadonlyMap<number, number>,
  q: number,
): number | undefined {
  const buckets = [...histogram].filter(([, count]) => count > 0).sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [bucket, count] of buckets) {
    seen += count;
    if (seen >= rank) return Number(bucketUpperBoundMs(bucket).toPrecision(6));
  }
  return undefined; // unreachable: the last bucket reaches the total
}
