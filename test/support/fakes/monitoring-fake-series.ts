/**
 * Series as Cloud Monitoring answers ListTimeSeries, to store in the
 * MonitoringFake: a Cloud Run revision's series (monitored resource
 * `cloud_run_revision` with its service_name, revision_name and location
 * labels) whose points span one aligned period, and their values.
 */
import type { TimeSeriesWire } from './monitoring-fake-rules.js';

type Value = TimeSeriesWire['points'][number]['value'];

export interface RevisionSeries {
  readonly service: string;
  readonly revision: string;
  /** Metric labels kept by the request's group-by (e.g. response_code_class). */
  readonly metricLabels?: Record<string, string>;
  /** The aligned period the points cover. */
  readonly from: Date;
  readonly through: Date;
  /** One point per value. */
  readonly values: readonly Value[];
}

/** The series; its metric type is set when the fake stores it (MonitoringFake.setSeries). */
export function revisionSeries(s: RevisionSeries): TimeSeriesWire {
  const stamp = (date: Date) => ({ seconds: String(date.getTime() / 1000) });
  return {
    metric: { type: '', labels: { ...s.metricLabels } },
    resource: {
      type: 'cloud_run_revision',
      labels: { service_name: s.service, revision_name: s.revision, location: 'us-central1' },
    },
    points: s.values.map((value) => ({
      interval: { startTime: stamp(s.from), endTime: stamp(s.through) },
      value,
    })),
  };
}

/** An INT64 value (a count), as the API encodes int64: a decimal string. */
export function int64(n: number): Value {
  return { int64Value: String(n) };
}

/** A DISTRIBUTION value with a histogram: `bucketCounts` from the underflow bucket on. */
export function distribution(bucketOptions: unknown, bucketCounts: readonly number[]): Value {
  return {
    distributionValue: {
      count: String(bucketCounts.reduce((a, b) => a + b, 0)),
      bucketOptions,
      bucketCounts: bucketCounts.map(String),
    },
  };
}
