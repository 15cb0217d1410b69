/**
 * What the Cloud Monitoring fake refuses in a ListTimeSeries request, and
 * which stored series a filter selects. Each rule cites its source; "common"
 * and "metric_service" mean google/monitoring/v3/{common,metric_service}.proto
 * as @google-cloud/monitoring ships them (field comments).
 *
 * Filters: the fake parses the subset the Monitoring filter language
 * (https://cloud.google.com/monitoring/api/v3/filters) that recdeploy
 * writes: `KEY = "value"` and `KEY = one_of("a", …)` clauses joined by AND.
 * Anything else is refused as INVALID_ARGUMENT; the real API would accept
 * more (OR, starts_with, …), which is a limit of the fake, not of the API.
 */
import * as grpc from '@grpc/grpc-js';
import { serviceError } from './grpc-fake-server.js';

export interface TimestampWire {
  seconds?: string;
  nanos?: number;
}
export interface ListTimeSeriesRequestWire {
  name?: string;
  filter?: string;
  interval?: { startTime?: TimestampWire; endTime?: TimestampWire };
  aggregation?: {
    alignmentPeriod?: { seconds?: string; nanos?: number };
    perSeriesAligner?: string;
    crossSeriesReducer?: string;
    groupByFields?: string[];
  };
  view?: string;
  pageSize?: number;
  pageToken?: string;
}
export interface TimeSeriesWire {
  metric: { type: string; labels?: Record<string, string> };
  resource: { type: string; labels?: Record<string, string> };
  metricKind?: string;
  valueType?: string;
  points: {
    interval: { startTime?: TimestampWire; endTime: TimestampWire };
    value: { int64Value?: string; doubleValue?: number; distributionValue?: unknown };
  }[];
}

/** One `KEY = …` clause: the values it accepts. */
interface Clause {
  readonly key: string;
  readonly values: readonly string[];
}

const STRING = String.raw`"(?:[^"\\]|\\.)*"`;
const CLAUSE = new RegExp(
  String.raw`^\s*([a-z_]+(?:\.[a-z_]+)*)\s*=\s*(?:(${STRING})|one_of\(\s*(${STRING}(?:\s*,\s*${STRING})*)\s*\))\s*$`,
);

function invalid(details: string): grpc.ServiceError {
  return serviceError(grpc.status.INVALID_ARGUMENT, details);
}

/** The filter's clauses; refuses a filter the fake cannot read. */
export function parseFilter(filter: string): Clause[] {
  // metric_service, ListTimeSeriesRequest `filter`: REQUIRED.
  if (!filter.trim()) throw invalid('filter: a filter is required');
  return filter.split(/\s+AND\s+/).map((part) => {
    const match = CLAUSE.exec(part);
    if (!match) throw invalid(`filter: cannot parse "${part.trim()}"`);
    const list = match[2] ?? match[3] ?? '';
    const values = list.match(new RegExp(STRING, 'g')) ?? [];
    return { key: match[1] ?? '', values: values.map((v) => JSON.parse(v) as string) };
  });
}

/**
 * The one metric type the filter names. metric_service, `filter`: "The
 * filter must specify a single metric type".
 */
export function metricTypeOf(clauses: readonly Clause[]): string {
  const types = clauses.filter((c) => c.key === 'metric.type');
  if (types.length !== 1 || types[0]?.values.length !== 1) {
    throw invalid('filter: it must specify exactly one metric.type');
  }
  return types[0].values[0] ?? '';
}

/** True when every clause accepts the series (its resource type and labels, metric labels). */
export function selects(clauses: readonly Clause[], series: TimeSeriesWire): boolean {
  return clauses.every(({ key, values }) => {
    const value = fieldOf(series, key);
    return value !== undefined && values.includes(value);
  });
}

function fieldOf(series: TimeSeriesWire, key: string): string | undefined {
  if (key === 'metric.type') return series.metric.type;
  if (key === 'resource.type') return series.resource.type;
  const [scope, labels, name] = key.split('.');
  if (labels !== 'labels' && labels !== 'label') return undefined;
  if (scope === 'resource') return series.resource.labels?.[name ?? ''];
  if (scope === 'metric') return series.metric.labels?.[name ?? ''];
  return undefined;
}

/**
 * The series with only their points inside the request's interval, and
 * only those left with points. metric_service, ListTimeSeriesRequest
 * `interval`: "Only time series that contain data points in the specified
 * interval are included in the response." A point counts by its end time,
 * where an aligned point is stamped (common, Aggregation: "a single data
 * point for each alignment_period with end timestamp at the end of the
 * period").
 */
export function within(
  series: readonly TimeSeriesWire[],
  interval: NonNullable<ListTimeSeriesRequestWire['interval']>,
): TimeSeriesWire[] {
  const end = millis(interval.endTime ?? {});
  const start = interval.startTime === undefined ? end : millis(interval.startTime);
  return series
    .map((s) => ({
      ...s,
      points: s.points.filter((p) => {
        const at = millis(p.interval.endTime);
        return at >= start && at <= end;
      }),
    }))
    .filter((s) => s.points.length > 0);
}

/** Refuses an interval or an aggregation the real API refuses (sources beside each rule). */
export function checkIntervalAndAggregation(request: ListTimeSeriesRequestWire): void {
  const { interval, aggregation } = request;
  // common, TimeInterval `end_time`: "Required. The end of the time interval."
  if (interval?.endTime === undefined) throw invalid('interval.endTime is required');
  // common, TimeInterval `start_time`: "The start time must not be later than the end time."
  if (interval.startTime !== undefined && millis(interval.startTime) > millis(interval.endTime)) {
    throw invalid('interval: the start time must not be later than the end time');
  }
  if (aggregation === undefined) return;
  const aligner = aggregation.perSeriesAligner ?? 'ALIGN_NONE';
  const reducer = aggregation.crossSeriesReducer ?? 'REDUCE_NONE';
  const period = aggregation.alignmentPeriod;
  const periodSeconds = Number(period?.seconds ?? 0) + (period?.nanos ?? 0) / 1e9;
  // common, `alignment_period`: "If a per-series aligner other than
  // ALIGN_NONE is specified, this field is required or an error is returned."
  if (aligner !== 'ALIGN_NONE' && period === undefined) {
    throw invalid('aggregation.alignmentPeriod is required with a per-series aligner');
  }
  // common, `alignment_period`: "The value must be at least 60 seconds."
  if (period !== undefined && aligner !== 'ALIGN_NONE' && periodSeconds < 60) {
    throw invalid(`aggregation.alignmentPeriod ${periodSeconds}s: must be at least 60 seconds`);
  }
  // common, `cross_series_reducer`: "If cross_series_reducer is specified,
  // then per_series_aligner must be specified, and must not be ALIGN_NONE.
  // An alignment_period must also be specified; otherwise, an error is returned."
  if (reducer !== 'REDUCE_NONE' && aligner === 'ALIGN_NONE') {
    throw invalid(
      'aggregation.crossSeriesReducer needs a per-series aligner other than ALIGN_NONE',
    );
  }
}

function millis(timestamp: TimestampWire): number {
  return Number(timestamp.seconds ?? 0) * 1000 + (timestamp.nanos ?? 0) / 1e6;
}
