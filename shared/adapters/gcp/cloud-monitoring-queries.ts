/**
 * The ListTimeSeries requests CloudMonitoringMetrics sends for one window,
 * and the part of the window Cloud Monitoring can already answer for. No
 * I/O; the SDK is imported for types only.
 *
 * Sources (cited where used):
 * - [metrics] Google Cloud metrics list, Cloud Run section,
 *   https://cloud.google.com/monitoring/api/metrics_gcp#gcp-run:
 *   `request_count` (DELTA, INT64: "Number of requests reaching the
 *   revision") and `request_latencies` (DELTA, DISTRIBUTION, ms: "Distribution
 *   of request latency in milliseconds reaching the revision … Sampled every
 *   60 seconds. After sampling, data is not visible for up to 180 seconds."),
 *   both on the monitored resource `cloud_run_revision`.
 * - [common] google/monitoring/v3/common.proto as @google-cloud/monitoring
 *   ships it (Aggregation, TimeInterval field comments).
 * - [filters] https://cloud.google.com/monitoring/api/v3/filters (filter
 *   syntax: `resource.labels.KEY`, `metric.labels.KEY`, `one_of(…)`).
 */
import type { protos } from '@google-cloud/monitoring';
import { PermanentError } from '../../errors.js';
import type { RevisionMetricsWindow } from '../../ports/revision-metrics.port.js';

export type ListTimeSeriesRequest = protos.google.monitoring.v3.IListTimeSeriesRequest;

export const REQUEST_COUNT_METRIC = 'run.googleapis.com/request_count';
export const REQUEST_LATENCIES_METRIC = 'run.googleapis.com/request_latencies';
/**
 * The user-defined log-based counter deploy/setup.sh creates: one log entry
 * per degenerate prediction answer ann-serving writes (jsonPayload.message =
 * "degenerate answer"). Log-based metrics are named
 * `logging.googleapis.com/user/NAME` and their series carry the log entry's
 * monitored resource, here `cloud_run_revision`.
 */
export const DEFAULT_DEGENERATE_METRIC = 'logging.googleapis.com/user/recdeploy_degenerate_answers';
export const CLOUD_RUN_REVISION = 'cloud_run_revision';

/** [metrics]: "data is not visible for up to 180 seconds" after sampling. */
export const CLOUD_RUN_METRICS_DELAY_MS = 180_000;
/** [common], `alignment_period`: "The value must be at least 60 seconds." */
export const MIN_ALIGNMENT_PERIOD_S = 60;

export const REVISION_LABEL = 'resource.labels.revision_name';
/**
 * `request_count`'s label with the answer's class: "One of '1xx', '2xx',
 * '3xx', '4xx', or '5xx' according to response code of the request. If any
 * other code is returned, it should be reported as '5xx'." ([metrics], the
 * same label of Cloud Run for Anthos' knative request_count; public alert
 * policies on run.googleapis.com/request_count filter
 * `metric.labels.response_code_class = "5xx"`).
 */
export const RESPONSE_CLASS_LABEL = 'metric.labels.response_code_class';

/** The part of a window that is read: whole seconds from `from`, none when too short. */
export interface ReadableSpan {
  readonly from: Date;
  /** Data is complete up to here (≤ window.to). */
  readonly through: Date;
  /** through − from in seconds; 0 when nothing can be asked yet. */
  readonly seconds: number;
}

/**
 * `through` = min(to, now − delay): points sampled in the last `delayMs` may
 * not be visible yet, so a quiet end of the window would look like no
 * traffic. The read spans [from, through] as one alignment period, so it is
 * cut to whole seconds; a span under {@link MIN_ALIGNMENT_PERIOD_S} cannot be
 * asked for at all and reads as nothing complete yet (through = from).
 */
export function readableSpan(
  window: RevisionMetricsWindow,
  now: Date,
  delayMs: number,
): ReadableSpan {
  const from = window.from.getTime();
  if (!(from <= window.to.getTime())) {
    throw new PermanentError(
      'INPUT.INVALID',
      `metrics window ends (${window.to.toISOString()}) before it starts (${window.from.toISOString()})`,
    );
  }
  const latest = Math.min(window.to.getTime(), now.getTime() - delayMs);
  const seconds = Math.floor((latest - from) / 1000);
  if (seconds < MIN_ALIGNMENT_PERIOD_S) {
    return { from: window.from, through: window.from, seconds: 0 };
  }
  return { from: window.from, through: new Date(from + seconds * 1000), seconds };
}

/** What every query of one read shares. */
export interface QueryScope {
  readonly projectId: string;
  readonly service: string;
  readonly span: ReadableSpan;
}

/**
 * The series of `metricType` on the service's revisions: "The filter must
 * specify a single metric type" (metric_service.proto, ListTimeSeriesRequest
 * `filter`), then the resource labels [filters].
 */
export function revisionFilter(
  metricType: string,
  service: string,
  revisions: readonly string[],
): string {
  return [
    `metric.type = ${quoted(metricType)}`,
    `resource.type = ${quoted(CLOUD_RUN_REVISION)}`,
    `resource.labels.service_name = ${quoted(service)}`,
    `${REVISION_LABEL} = one_of(${revisions.map(quoted).join(', ')})`,
  ].join(' AND ');
}

/**
 * Requests per revision and answer class over the whole span: one aligned
 * point per series (ALIGN_DELTA over an alignment period as long as the
 * interval), the series of a revision and class summed (REDUCE_SUM; [common]:
 * valid for DELTA metrics, "the value_type of the output is the same as the
 * value_type of the input"). The 5xx class holds the errors, time-outs
 * included: Cloud Run answers a request that passed its time-out with 504
 * (https://cloud.google.com/run/docs/configuring/request-timeout).
 */
export function requestCountQuery(scope: QueryScope, revisions: readonly string[]) {
  return summedOver(scope, revisionFilter(REQUEST_COUNT_METRIC, scope.service, revisions), [
    REVISION_LABEL,
    RESPONSE_CLASS_LABEL,
  ]);
}

/**
 * Latency per revision as one summed DISTRIBUTION (ALIGN_DELTA + REDUCE_SUM;
 * [common]: REDUCE_SUM is valid "with numeric and distribution values"),
 * p50 and p99 then read from its buckets (cloud-monitoring-distribution.ts).
 * Chosen over two queries with REDUCE_PERCENTILE_50 / _99 (Google's Cloud
 * Run dashboard sample, GoogleCloudPlatform/monitoring-dashboard-samples
 * dashboards/google-cloud-run/cloudrun-monitoring.json): one round trip
 * instead of two, both percentiles from the same set of samples, and the
 * same estimate, since the percentile reducers also work from the buckets.
 */
export function latencyQuery(scope: QueryScope, revisions: readonly string[]) {
  return summedOver(scope, revisionFilter(REQUEST_LATENCIES_METRIC, scope.service, revisions), [
    REVISION_LABEL,
  ]);
}

/** Degenerate answers per revision, counted by the log-based metric `metricType`. */
export function degenerateQuery(
  scope: QueryScope,
  metricType: string,
  revisions: readonly string[],
) {
  return summedOver(scope, revisionFilter(metricType, scope.service, revisions), [REVISION_LABEL]);
}

function summedOver(
  scope: QueryScope,
  filter: string,
  groupByFields: readonly string[],
): ListTimeSeriesRequest {
  const { from, through, seconds } = scope.span;
  return {
    name: `projects/${scope.projectId}`,
    filter,
    // [common], TimeInterval: the start "must not be later than the end time".
    interval: { startTime: timestamp(from), endTime: timestamp(through) },
    // [common], `per_series_aligner`/`cross_series_reducer`: a reducer needs
    // an aligner other than ALIGN_NONE and an alignment period.
    aggregation: {
      alignmentPeriod: { seconds },
      perSeriesAligner: 'ALIGN_DELTA',
      crossSeriesReducer: 'REDUCE_SUM',
      groupByFields: [...groupByFields],
    },
    // metric_service.proto, ListTimeSeriesRequest `view` is REQUIRED; FULL
    // returns the points, HEADERS only the series' identity.
    view: 'FULL',
  };
}

function timestamp(date: Date): { seconds: number; nanos: number } {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** A filter string literal (service and revision names never need escapes; quotes would). */
function quoted(value: string): string {
  return JSON.stringify(value);
}
