/**
 * From the series Cloud Monitoring returns for the queries in
 * cloud-monitoring-queries.ts to one RevisionWindowMetrics per revision. The
 * series are grouped by revision (and answer class), but one revision can
 * still come back as several series or points (a page boundary can split a
 * series), so everything is added up per revision. No I/O.
 */
import type { protos } from '@google-cloud/monitoring';
import type { RevisionWindowMetrics } from '../../ports/revision-metrics.port.js';
import { mergeDistributions, percentile, toCount } from './cloud-monitoring-distribution.js';

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;
type Distribution = protos.google.api.IDistribution;

/** cloud_run_revision's label naming the revision (monitored resource labels). */
const REVISION = 'revision_name';
/** request_count's label with the answer class ('2xx', '5xx', …). */
const RESPONSE_CLASS = 'response_code_class';

/** Requests per revision, by answer class. */
export type ClassCounts = ReadonlyMap<string, ReadonlyMap<string, number>>;

export function countsByClass(series: readonly TimeSeries[]): ClassCounts {
  const counts = new Map<string, Map<string, number>>();
  for (const one of series) {
    const revision = one.resource?.labels?.[REVISION] ?? '';
    const responseClass = one.metric?.labels?.[RESPONSE_CLASS] ?? '';
    const byClass = counts.get(revision) ?? new Map<string, number>();
    byClass.set(responseClass, (byClass.get(responseClass) ?? 0) + pointsTotal(one));
    counts.set(revision, byClass);
  }
  return counts;
}

/** A counter's total per revision (a log-based metric). */
export function totalsByRevision(series: readonly TimeSeries[]): ReadonlyMap<string, number> {
  const totals = new Map<string, number>();
  for (const one of series) {
    const revision = one.resource?.labels?.[REVISION] ?? '';
    totals.set(revision, (totals.get(revision) ?? 0) + pointsTotal(one));
  }
  return totals;
}

/** Every latency distribution of a revision, from all its series and points. */
export function distributionsByRevision(
  series: readonly TimeSeries[],
): ReadonlyMap<string, readonly Distribution[]> {
  const distributions = new Map<string, Distribution[]>();
  for (const one of series) {
    const revision = one.resource?.labels?.[REVISION] ?? '';
    const list = distributions.get(revision) ?? [];
    for (const point of one.points ?? []) {
      const value = point.value?.distributionValue;
      if (value) list.push(value);
    }
    distributions.set(revision, list);
  }
  return distributions;
}

export interface SeriesByKind {
  readonly counts: ClassCounts;
  readonly latencies: ReadonlyMap<string, readonly Distribution[]>;
  /** Degenerate answers per revision, for the revisions that report answers. */
  readonly degenerate?: ReadonlyMap<string, number>;
}

/**
 * One revision's metrics. Errors are the 5xx class (time-outs included,
 * cloud-monitoring-queries.ts); answers are reported only for revisions
 * whose answers are inspected (`reportsAnswers`): each 2xx answer was
 * inspected, and a revision without degenerate-answer series had none.
 * `skippedDistributions` hears of distributions whose buckets could not be
 * added to the others.
 */
export function revisionMetrics(
  revision: string,
  series: SeriesByKind,
  reportsAnswers: boolean,
  skippedDistributions: (revision: string, skipped: number) => void = () => undefined,
): RevisionWindowMetrics {
  const byClass = series.counts.get(revision);
  const requests = [...(byClass?.values() ?? [])].reduce((sum, n) => sum + n, 0);
  const errors = byClass?.get('5xx') ?? 0;
  const { merged, skipped } = mergeDistributions(series.latencies.get(revision) ?? []);
  if (skipped > 0) skippedDistributions(revision, skipped);
  const p50 = merged && percentile(merged, 0.5);
  const p99 = merged && percentile(merged, 0.99);
  return {
    revision,
    requests,
    errors,
    ...(p50 !== undefined && { latencyP50Ms: p50 }),
    ...(p99 !== undefined && { latencyP99Ms: p99 }),
    ...(reportsAnswers &&
      series.degenerate !== undefined && {
        answers: {
          inspected: byClass?.get('2xx') ?? 0,
          degenerate: series.degenerate.get(revision) ?? 0,
        },
      }),
  };
}

/** The sum of a series' points (INT64 counters; DOUBLE taken as is). */
function pointsTotal(series: TimeSeries): number {
  return (series.points ?? []).reduce((sum, point) => {
    const value = point.value;
    const int = value?.int64Value;
    return sum + (int !== null && int !== undefined ? toCount(int) : (value?.doubleValue ?? 0));
  }, 0);
}
