/**
 * RevisionMetricsSource over Cloud Monitoring (`@google-cloud/monitoring`
 * MetricServiceClient.listTimeSeries): Cloud Run's request_count and
 * request_latencies by revision, and a log-based counter of degenerate
 * prediction answers. Each read sends up to three queries for the part of
 * the window Cloud Monitoring can already answer for (cloud-monitoring-queries.ts)
 * and adds up what comes back per revision (cloud-monitoring-series.ts).
 */
import type { MetricServiceClient, protos } from '@google-cloud/monitoring';
import type { Logger } from '../../logging/logger.port.js';
import type {
  RevisionMetricsReading,
  RevisionMetricsSource,
  RevisionMetricsWindow,
  RevisionWindowMetrics,
} from '../../ports/revision-metrics.port.js';
import { toApiError } from './google-api-errors.js';
import {
  CLOUD_RUN_METRICS_DELAY_MS,
  DEFAULT_DEGENERATE_METRIC,
  degenerateQuery,
  latencyQuery,
  readableSpan,
  requestCountQuery,
  type ListTimeSeriesRequest,
  type QueryScope,
} from './cloud-monitoring-queries.js';
import {
  countsByClass,
  distributionsByRevision,
  revisionMetrics,
  totalsByRevision,
  type SeriesByKind,
} from './cloud-monitoring-series.js';

export { DEFAULT_DEGENERATE_METRIC } from './cloud-monitoring-queries.js';

type MetricServiceClientOptions = NonNullable<ConstructorParameters<typeof MetricServiceClient>[0]>;
type TimeSeries = protos.google.monitoring.v3.ITimeSeries;

export interface CloudMonitoringMetricsOptions {
  /** The project whose metrics are read (`projects/{projectId}`). */
  readonly projectId: string;
  readonly logger: Logger;
  /** Passed to `new MetricServiceClient()` (tests point it at a local fake). */
  readonly clientOptions?: MetricServiceClientOptions;
  /**
   * The log-based counter of degenerate answers (deploy/setup.sh creates
   * it); default {@link DEFAULT_DEGENERATE_METRIC}. `false`: no answers are
   * reported for any revision.
   */
  readonly degenerateMetric?: string | false;
  /**
   * Whether a revision writes the degenerate-answer log line (ann-serving
   * does; a TF Serving revision does not, and reporting "0 degenerate" for it
   * would claim an inspection that never happened). Default: every revision.
   */
  readonly reportsAnswers?: (service: string, revision: string) => boolean;
  /**
   * How long after sampling a point may still be invisible; default
   * 180 000 ms (Cloud Run metrics, cloud-monitoring-queries.ts).
   */
  readonly ingestionDelayMs?: number;
  /**
   * Bound on one query, retries included (the client retries UNAVAILABLE
   * for up to 600 s by default); default 30 000 ms. Past it the read fails
   * with a TransientError and the next tick reads again.
   */
  readonly callTimeoutMs?: number;
  /** The clock deciding what is visible yet; tests fix it. */
  readonly now?: () => Date;
}

/** How toApiError names and classifies a failed query: a refusal is a setup problem (role, project, metric name). */
const CALL = { call: 'Cloud Monitoring listTimeSeries', rejected: 'CONFIG.INVALID' } as const;

export class CloudMonitoringMetrics implements RevisionMetricsSource {
  /** Only ann-serving writes the degenerate-answer log line the counter counts. */
  readonly seesAnswersOf: readonly string[] = ['ann-serving'];
  private readonly options: CloudMonitoringMetricsOptions;
  private client: Promise<MetricServiceClient> | undefined;

  constructor(options: CloudMonitoringMetricsOptions) {
    this.options = options;
  }

  async read(
    service: string,
    revisions: readonly string[],
    window: RevisionMetricsWindow,
  ): Promise<RevisionMetricsReading> {
    const { now = () => new Date(), ingestionDelayMs = CLOUD_RUN_METRICS_DELAY_MS } = this.options;
    const span = readableSpan(window, now(), ingestionDelayMs);
    const asked = [...new Set(revisions)];
    const metric = this.options.degenerateMetric ?? DEFAULT_DEGENERATE_METRIC;
    const reports = (revision: string) =>
      metric !== false && (this.options.reportsAnswers?.(service, revision) ?? true);
    const answering = asked.filter(reports);
    const scope: QueryScope = { projectId: this.options.projectId, service, span };
    let series: SeriesByKind = {
      counts: new Map(),
      latencies: new Map(),
      ...(answering.length > 0 && { degenerate: new Map() }),
    };
    if (span.seconds > 0 && asked.length > 0) {
      const [counts, latencies, degenerate] = await Promise.all([
        this.list(requestCountQuery(scope, asked)),
        this.list(latencyQuery(scope, asked)),
        metric !== false && answering.length > 0
          ? this.list(degenerateQuery(scope, metric, answering))
          : undefined,
      ]);
      series = {
        counts: countsByClass(counts),
        latencies: distributionsByRevision(latencies),
        ...(degenerate !== undefined && { degenerate: totalsByRevision(degenerate) }),
      };
    }
    const log = this.options.logger.child({ service });
    const skipped = (revision: string, count: number) =>
      log.warn('latency distributions with another bucket layout left out', { revision, count });
    const metrics: RevisionWindowMetrics[] = revisions.map((revision) =>
      revisionMetrics(revision, series, reports(revision), skipped),
    );
    return { revisions: metrics, through: span.through };
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await (await client).close();
  }

  /** Every series of one query, all pages (the client follows next_page_token). */
  private async list(request: ListTimeSeriesRequest): Promise<TimeSeries[]> {
    const timeout = this.options.callTimeoutMs ?? 30_000;
    try {
      const [series] = await (await this.metricService()).listTimeSeries(request, { timeout });
      return series;
    } catch (error) {
      throw toApiError(error, CALL);
    }
  }

  private metricService(): Promise<MetricServiceClient> {
    this.client ??= this.createClient();
    return this.client;
  }

  private async createClient(): Promise<MetricServiceClient> {
    const { MetricServiceClient } = await import('@google-cloud/monitoring');
    return new MetricServiceClient({
      projectId: this.options.projectId,
      ...this.options.clientOptions,
    });
  }
}
