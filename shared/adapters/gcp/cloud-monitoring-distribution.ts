/**
 * Percentiles of a Cloud Monitoring DISTRIBUTION value from its histogram.
 * Bucket arithmetic follows google/api/distribution.proto (BucketOptions):
 * N buckets, number 0 the underflow (-∞, first bound), N-1 the overflow
 * [last bound, +∞), each bucket inclusive below and exclusive above;
 * `bucket_counts` may hold fewer than N values ("the remaining values are
 * assumed to be 0"). No I/O; the SDK is imported for types only.
 */
import type { protos } from '@google-cloud/monitoring';

type Distribution = protos.google.api.IDistribution;
type BucketOptions = protos.google.api.Distribution.IBucketOptions;

/**
 * int64 fields arrive as decimal strings (gax decodes with `longs: String`);
 * numbers pass, and a protobufjs Long converts itself.
 */
export function toCount(value: unknown): number {
  let count: number;
  if (typeof value === 'number' || typeof value === 'string') count = Number(value);
  else if (isLong(value)) count = value.toNumber();
  else return 0;
  return Number.isFinite(count) ? count : 0;
}

function isLong(value: unknown): value is { toNumber(): number } {
  return typeof (value as { toNumber?: unknown } | null)?.toNumber === 'function';
}

/**
 * The finite bounds between buckets: bucket i spans [bounds[i-1], bounds[i])
 * with bounds[-1] = -∞ and bounds[N-1] = +∞. Undefined when the options
 * name no layout (a distribution without a histogram).
 */
export function bucketBounds(options: BucketOptions | null | undefined): number[] | undefined {
  const linear = options?.linearBuckets;
  if (linear) {
    // Upper bound (0 <= i < N-1): offset + width * i.
    const n = linear.numFiniteBuckets ?? 0;
    return Array.from({ length: n + 1 }, (_, i) => (linear.offset ?? 0) + (linear.width ?? 0) * i);
  }
  const exponential = options?.exponentialBuckets;
  if (exponential) {
    // Upper bound (0 <= i < N-1): scale * growth_factor ^ i.
    const n = exponential.numFiniteBuckets ?? 0;
    const scale = exponential.scale ?? 0;
    const growth = exponential.growthFactor ?? 0;
    return Array.from({ length: n + 1 }, (_, i) => scale * growth ** i);
  }
  const explicit = options?.explicitBuckets?.bounds;
  return explicit?.length ? [...explicit] : undefined;
}

/**
 * The `q` quantile (0 < q ≤ 1) of `distribution`, interpolated linearly
 * inside the bucket that holds it, as Cloud Monitoring's own percentile
 * reducers estimate from the same buckets. A quantile in the underflow
 * bucket is its upper bound, in the overflow bucket its lower bound (the
 * only finite ones). Undefined without samples or without a histogram.
 */
export function percentile(distribution: Distribution, q: number): number | undefined {
  const bounds = bucketBounds(distribution.bucketOptions);
  const counts = (distribution.bucketCounts ?? []).map(toCount);
  const total = counts.reduce((sum, n) => sum + n, 0);
  if (bounds === undefined || total === 0) return undefined;
  const rank = q * total;
  let before = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] ?? 0;
    if (n === 0 || before + n < rank) {
      before += n;
      continue;
    }
    const lower = i === 0 ? undefined : bounds[i - 1];
    const upper = bounds[i];
    if (lower === undefined) return upper;
    if (upper === undefined) return lower;
    return lower + ((rank - before) / n) * (upper - lower);
  }
  return undefined;
}

/**
 * One distribution holding the samples of all of `distributions`: bucket
 * counts added bucket by bucket. Only distributions with the first one's
 * bucket layout can be added; `skipped` counts the others (Cloud Run uses
 * one layout per metric, so it stays 0 unless that changes).
 */
export function mergeDistributions(distributions: readonly Distribution[]): {
  readonly merged?: Distribution;
  readonly skipped: number;
} {
  const [first] = distributions;
  if (first === undefined) return { skipped: 0 };
  const layout = JSON.stringify(bucketBounds(first.bucketOptions));
  const counts: number[] = [];
  let count = 0;
  let skipped = 0;
  for (const distribution of distributions) {
    if (JSON.stringify(bucketBounds(distribution.bucketOptions)) !== layout) {
      skipped++;
      continue;
    }
    count += toCount(distribution.count);
    (distribution.bucketCounts ?? []).forEach(
      (n, i) => (counts[i] = (counts[i] ?? 0) + toCount(n)),
    );
  }
  return {
    merged: { count, bucketOptions: first.bucketOptions ?? null, bucketCounts: counts },
    skipped,
  };
}
