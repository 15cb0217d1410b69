/**
 * A local gRPC fake of Cloud Monitoring's MetricService (ListTimeSeries
 * only), served from the protos `@google-cloud/monitoring` ships, so the real
 * MetricServiceClient is tested over real gRPC
 * (/work/shared/reference/grpc-fakes.md). It records every request as it
 * arrived, refuses the requests the real API refuses
 * (monitoring-fake-rules.ts), and answers with the series the test stored
 * for the filter's metric type, selected by the filter's label clauses.
 * The stored series stand for the API's answer after the request's
 * aggregation: the fake checks the aggregation but does not compute it.
 *
 * Paging (metric_service.proto, ListTimeSeriesRequest `page_size`: with view
 * FULL it is "the maximum number of Points returned"; ListTimeSeriesResponse
 * `next_page_token`: "If there are more results than have been returned,
 * then this field is set to a non-empty value"): a page holds at most
 * `pointsPerPage` points (a server may return fewer results than asked), so
 * one series can be split across pages, as the real API splits it.
 */
import * as grpc from '@grpc/grpc-js';
import {
  listenOnLoopback,
  loadGrpcPackage,
  serviceDefinition,
  serviceError,
  shutdown,
  type Callback,
} from './grpc-fake-server.js';
import {
  checkIntervalAndAggregation,
  metricTypeOf,
  parseFilter,
  selects,
  within,
  type ListTimeSeriesRequestWire,
  type TimeSeriesWire,
} from './monitoring-fake-rules.js';

export type * from './monitoring-fake-rules.js';

const MONITORING_PACKAGE = '@google-cloud/monitoring';
const PROTO = 'google/monitoring/v3/metric_service.proto';

/** One ListTimeSeries call as the fake received it. */
export interface RecordedListCall {
  readonly request: ListTimeSeriesRequestWire;
  /** The error code the fake answered with, if it did. */
  readonly errorCode?: number;
}

export interface MonitoringFakeOptions {
  readonly project?: string;
  /** Points per page at most (small, to exercise paging); default 3. */
  readonly pointsPerPage?: number;
}

export class MonitoringFake {
  readonly calls: RecordedListCall[] = [];
  readonly project: string;
  port = 0;
  private readonly server = new grpc.Server();
  private readonly pointsPerPage: number;
  private readonly series = new Map<string, TimeSeriesWire[]>();
  private readonly failures: { code: grpc.status; details: string }[] = [];
  /** Issued page tokens → the request they continue and where. */
  private readonly pages = new Map<string, { readonly query: string; readonly offset: number }>();
  private tokens = 0;

  constructor(options: MonitoringFakeOptions = {}) {
    this.project = options.project ?? 'test-project';
    this.pointsPerPage = options.pointsPerPage ?? 3;
    const root = loadGrpcPackage(MONITORING_PACKAGE, PROTO, { wireOnly: true });
    this.server.addService(serviceDefinition(root, 'google.monitoring.v3.MetricService'), {
      ListTimeSeries: (
        call: { request: ListTimeSeriesRequestWire },
        callback: Callback<unknown>,
      ): void => {
        const request = structuredClone(call.request);
        const failure = this.failures.shift();
        try {
          if (failure) throw serviceError(failure.code, failure.details);
          const response = this.list(request);
          this.calls.push({ request });
          callback(null, response);
        } catch (error) {
          const code = (error as grpc.ServiceError).code;
          this.calls.push({ request, errorCode: code });
          callback(error as grpc.ServiceError);
        }
      },
    });
  }

  async start(): Promise<number> {
    this.port = await listenOnLoopback(this.server);
    return this.port;
  }

  async stop(): Promise<void> {
    await shutdown(this.server);
  }

  /** Stores the series the API answers for `metricType` (replacing earlier ones). */
  setSeries(metricType: string, series: readonly TimeSeriesWire[]): void {
    this.series.set(
      metricType,
      series.map((s) => structuredClone({ ...s, metric: { ...s.metric, type: metricType } })),
    );
  }

  /** Answers the next `times` calls with `code`. */
  failNext(code: grpc.status, details = 'injected by the fake', times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ code, details });
  }

  /** The requests that reached the fake, in arrival order. */
  requests(): ListTimeSeriesRequestWire[] {
    return this.calls.map((c) => c.request);
  }

  private list(request: ListTimeSeriesRequestWire) {
    this.checkName(request.name ?? '');
    const clauses = parseFilter(request.filter ?? '');
    const metricType = metricTypeOf(clauses);
    checkIntervalAndAggregation(request);
    const selected = within(
      (this.series.get(metricType) ?? []).filter((s) => selects(clauses, s)),
      request.interval ?? {},
    );
    const query = JSON.stringify({ ...request, pageToken: undefined, pageSize: undefined });
    const offset = this.offsetOf(request.pageToken ?? '', query);
    const limit = Math.min(request.pageSize || 100_000, this.pointsPerPage);
    const { page, next } = pageOf(selected, offset, limit);
    let nextPageToken = '';
    if (next !== undefined) {
      nextPageToken = `page-${++this.tokens}`;
      this.pages.set(nextPageToken, { query, offset: next });
    }
    return { timeSeries: page, nextPageToken, executionErrors: [], unit: '' };
  }

  /**
   * metric_service, ListTimeSeriesRequest `name`: "projects/[PROJECT_ID_OR_NUMBER]"
   * (REQUIRED). Another project is PERMISSION_DENIED: a caller without access
   * must not learn whether a resource exists (AIP-211,
   * https://google.aip.dev/211).
   */
  private checkName(name: string): void {
    const match = /^projects\/([^/]+)$/.exec(name);
    if (!match)
      throw serviceError(grpc.status.INVALID_ARGUMENT, `name: "${name}" is not projects/PROJECT`);
    if (match[1] !== this.project) {
      throw serviceError(
        grpc.status.PERMISSION_DENIED,
        `Permission monitoring.timeSeries.list denied on ${name}`,
      );
    }
  }

  /**
   * metric_service, `page_token`: "If this field is not empty then it must
   * contain the `nextPageToken` value returned by a previous call to this
   * method" (and so, for the same query).
   */
  private offsetOf(token: string, query: string): number {
    if (!token) return 0;
    const page = this.pages.get(token);
    if (page === undefined || page.query !== query) {
      throw serviceError(
        grpc.status.INVALID_ARGUMENT,
        `page_token "${token}" is not valid for this request`,
      );
    }
    return page.offset;
  }
}

/** The series holding points [offset, offset + limit) of all selected points, in order. */
function pageOf(
  series: readonly TimeSeriesWire[],
  offset: number,
  limit: number,
): { page: TimeSeriesWire[]; next?: number } {
  const page: TimeSeriesWire[] = [];
  let index = 0;
  for (const one of series) {
    const start = Math.max(offset - index, 0);
    const end = Math.min(offset + limit - index, one.points.length);
    if (start < end) page.push({ ...one, points: one.points.slice(start, end) });
    index += one.points.length;
  }
  const next = offset + limit;
  return next < index ? { page, next } : { page };
}
