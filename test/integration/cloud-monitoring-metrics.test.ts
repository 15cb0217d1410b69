import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { PermanentError, TransientError } from '../../shared/errors.js';
import { RecordingLogger } from '../../shared/logging/recording-logger.js';
import {
  CloudMonitoringMetrics,
  type CloudMonitoringMetricsOptions,
} from '../../shared/adapters/gcp/cloud-monitoring-metrics.js';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';
import {
  MonitoringFake,
  type ListTimeSeriesRequestWire,
} from '../support/fakes/monitoring-fake.js';
import { distribution, int64, revisionSeries } from '../support/fakes/monitoring-fake-series.js';

// Cloud Monitoring reads of a canary window over real gRPC: the queries on
// the wire, and the series Cloud Monitoring answers turned into metrics per
// revision (cloud-monitoring-queries.ts and cloud-monitoring-series.ts cite
// the metric and label names).

const COUNT = 'run.googleapis.com/request_count';
const LATENCIES = 'run.googleapis.com/request_latencies';
const DEGENERATE = 'logging.googleapis.com/user/recdeploy_degenerate_answers';
const CANARY = 'rec-shop-r2';
const STABLE = 'rec-shop-r1';
const QUIET = 'rec-shop-r3';

const FROM = new Date('2026-03-02T10:00:00.000Z');
const TO = new Date('2026-03-02T10:10:00.000Z');
/** TO − 180 s: what Cloud Run metrics have made visible when the window ends now. */
const THROUGH = new Date('2026-03-02T10:07:00.000Z');
const seconds = (date: Date) => String(date.getTime() / 1000);

/** A series of the window as Cloud Monitoring answers it after ALIGN_DELTA over the whole span. */
const series = (
  revision: string,
  values: Parameters<typeof revisionSeries>[0]['values'],
  metricLabels: Record<string, string> = {},
  service = 'rec-shop',
) => revisionSeries({ service, revision, metricLabels, from: FROM, through: THROUGH, values });
const count = (revision: string, responseClass: string, n: number, service?: string) =>
  series(revision, [int64(n)], { response_code_class: responseClass }, service);

describe('CloudMonitoringMetrics over real gRPC', () => {
  let fake: MonitoringFake;
  let metrics: CloudMonitoringMetrics;
  let now: Date;

  const reader = (options: Partial<CloudMonitoringMetricsOptions> = {}) =>
    new CloudMonitoringMetrics({
      projectId: 'test-project',
      logger: new RecordingLogger(),
      clientOptions: fakeClientOptions(fake.port),
      callTimeoutMs: 1_000,
      now: () => now,
      ...options,
    });
  const requestFor = (metricType: string): ListTimeSeriesRequestWire | undefined =>
    fake.requests().find((r) => r.filter?.startsWith(`metric.type = "${metricType}"`));

  beforeEach(async () => {
    fake = new MonitoringFake({ pointsPerPage: 3 });
    await fake.start();
    now = TO;
    metrics = reader();
  });

  afterEach(async () => {
    await metrics.close();
    await fake.stop();
  });

  it('asks for each metric over [from, now − 180 s] as one ALIGN_DELTA period summed by revision', async () => {
    const reading = await metrics.read('rec-shop', [CANARY, STABLE], { from: FROM, to: TO });

    assert.equal(reading.through.toISOString(), THROUGH.toISOString());
    const revisions = 'resource.labels.revision_name = one_of("rec-shop-r2", "rec-shop-r1")';
    const where = `resource.type = "cloud_run_revision" AND resource.labels.service_name = "rec-shop" AND ${revisions}`;
    // Exactly as on the wire (int64 as strings): protobufjs sends the nanos
    // and the view it was given even where they equal the proto3 default.
    const common = {
      name: 'projects/test-project',
      interval: {
        startTime: { seconds: seconds(FROM), nanos: 0 },
        endTime: { seconds: seconds(THROUGH), nanos: 0 },
      },
      view: 'FULL',
    };
    const aggregation = (groupByFields: string[]) => ({
      alignmentPeriod: { seconds: '420' },
      perSeriesAligner: 'ALIGN_DELTA',
      crossSeriesReducer: 'REDUCE_SUM',
      groupByFields,
    });
    assert.deepEqual(requestFor(COUNT), {
      ...common,
      filter: `metric.type = "${COUNT}" AND ${where}`,
      aggregation: aggregation([
        'resource.labels.revision_name',
        'metric.labels.response_code_class',
      ]),
    });
    assert.deepEqual(requestFor(LATENCIES), {
      ...common,
      filter: `metric.type = "${LATENCIES}" AND ${where}`,
      aggregation: aggregation(['resource.labels.revision_name']),
    });
    assert.deepEqual(requestFor(DEGENERATE), {
      ...common,
      filter: `metric.type = "${DEGENERATE}" AND ${where}`,
      aggregation: aggregation(['resource.labels.revision_name']),
    });
    assert.equal(fake.requests().length, 3);
  });

  it('maps the series to metrics per revision: 5xx are errors, percentiles from the buckets, 0 without series', async () => {
    fake.setSeries(COUNT, [
      count(CANARY, '2xx', 90),
      count(CANARY, '4xx', 4),
      count(CANARY, '5xx', 6),
      count(STABLE, '2xx', 997),
      count(STABLE, '5xx', 3),
      // Not asked for, and another service's revision: the filter leaves them out.
      count('rec-shop-r0', '2xx', 50),
      count(CANARY, '5xx', 1000, 'rec-other'),
    ]);
    fake.setSeries(LATENCIES, [
      // Buckets (-∞,0) [0,50) [50,100) [100,200) [200,400) [400,∞).
      series(CANARY, [
        distribution(
          { explicitBuckets: { bounds: [0, 50, 100, 200, 400] } },
          [0, 20, 50, 20, 8, 2],
        ),
      ]),
      // Buckets (-∞,10) [10,20) [20,40) [40,80) [80,∞); trailing zero counts left out;
      // two points (as from two alignment periods) are added together.
      series(STABLE, [
        distribution(
          { exponentialBuckets: { numFiniteBuckets: 3, growthFactor: 2, scale: 10 } },
          [0, 300, 200, 50],
        ),
        distribution(
          { exponentialBuckets: { numFiniteBuckets: 3, growthFactor: 2, scale: 10 } },
          [0, 200, 200, 50],
        ),
      ]),
    ]);
    fake.setSeries(DEGENERATE, [series(CANARY, [int64(7)])]);

    const reading = await metrics.read('rec-shop', [CANARY, STABLE, QUIET], { from: FROM, to: TO });

    assert.deepEqual(reading.revisions, [
      {
        revision: CANARY,
        requests: 100,
        errors: 6,
        latencyP50Ms: 80, // rank 50: 50 + (50 − 20) / 50 × 50
        latencyP99Ms: 400, // rank 99 falls in the overflow bucket: its lower bound
        answers: { inspected: 90, degenerate: 7 },
      },
      {
        revision: STABLE,
        requests: 1000,
        errors: 3,
        latencyP50Ms: 20, // rank 500 of [0, 500, 400, 100]: 10 + 500 / 500 × 10
        latencyP99Ms: 76, // rank 990: 40 + (990 − 900) / 100 × 40
        answers: { inspected: 997, degenerate: 0 },
      },
      { revision: QUIET, requests: 0, errors: 0, answers: { inspected: 0, degenerate: 0 } },
    ]);
    // 5 selected count series at 3 points a page: the client followed next_page_token.
    const countPages = fake.requests().filter((r) => r.filter?.includes(COUNT));
    assert.deepEqual(
      countPages.map((r) => r.pageToken ?? ''),
      ['', 'page-1'],
    );
  });

  it('reports answers only for revisions that write the degenerate-answer log line', async () => {
    await metrics.close();
    metrics = reader({ reportsAnswers: (_service, revision) => revision === CANARY });
    fake.setSeries(COUNT, [count(CANARY, '2xx', 10), count(STABLE, '2xx', 20)]);

    const reading = await metrics.read('rec-shop', [CANARY, STABLE], { from: FROM, to: TO });

    assert.match(requestFor(DEGENERATE)?.filter ?? '', /revision_name = one_of\("rec-shop-r2"\)$/);
    assert.deepEqual(reading.revisions, [
      { revision: CANARY, requests: 10, errors: 0, answers: { inspected: 10, degenerate: 0 } },
      { revision: STABLE, requests: 20, errors: 0 },
    ]);
  });

  it('sends no degenerate-answer query and reports no answers when the metric is switched off', async () => {
    await metrics.close();
    metrics = reader({ degenerateMetric: false });

    const reading = await metrics.read('rec-shop', [CANARY], { from: FROM, to: TO });

    assert.equal(requestFor(DEGENERATE), undefined);
    assert.equal(fake.requests().length, 2);
    assert.deepEqual(reading.revisions, [{ revision: CANARY, requests: 0, errors: 0 }]);
  });

  it('reads through min(to, now − 180 s), in whole seconds', async () => {
    now = new Date('2026-03-02T10:08:30.250Z');
    const early = await metrics.read('rec-shop', [CANARY], { from: FROM, to: TO });
    assert.equal(early.through.toISOString(), '2026-03-02T10:05:30.000Z');
    assert.deepEqual(requestFor(COUNT)?.aggregation?.alignmentPeriod, { seconds: '330' });

    now = new Date('2026-03-02T11:00:00.000Z');
    const late = await metrics.read('rec-shop', [CANARY], { from: FROM, to: TO });
    assert.equal(late.through.toISOString(), TO.toISOString());
    assert.deepEqual(fake.requests().at(-1)?.interval?.endTime, { seconds: seconds(TO), nanos: 0 });
  });

  it('asks nothing while less than 60 s of the window is visible, and reports it as not read yet', async () => {
    now = new Date(FROM.getTime() + 180_000 + 59_000);

    const reading = await metrics.read('rec-shop', [CANARY, STABLE], { from: FROM, to: TO });

    assert.equal(fake.requests().length, 0);
    assert.equal(reading.through.toISOString(), FROM.toISOString());
    assert.deepEqual(
      reading.revisions.map((r) => [r.revision, r.requests, r.latencyP50Ms]),
      [
        [CANARY, 0, undefined],
        [STABLE, 0, undefined],
      ],
    );
  });

  const failures: [
    string,
    grpc.status,
    number,
    typeof TransientError | typeof PermanentError,
    string,
  ][] = [
    [
      'RESOURCE_EXHAUSTED',
      grpc.status.RESOURCE_EXHAUSTED,
      1,
      TransientError,
      'DEPENDENCY.UNAVAILABLE',
    ],
    // The client retries UNAVAILABLE itself, until callTimeoutMs runs out.
    [
      'UNAVAILABLE (every attempt)',
      grpc.status.UNAVAILABLE,
      1_000,
      TransientError,
      'DEPENDENCY.UNAVAILABLE',
    ],
    ['PERMISSION_DENIED', grpc.status.PERMISSION_DENIED, 1, PermanentError, 'CONFIG.INVALID'],
    ['INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT, 1, PermanentError, 'CONFIG.INVALID'],
  ];
  for (const [name, code, times, type, errorCode] of failures) {
    it(`turns ${name} into ${type.name} ${errorCode}`, async () => {
      fake.failNext(code, `${name} injected`, times);

      const error = await metrics.read('rec-shop', [CANARY], { from: FROM, to: TO }).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );

      assert.ok(error instanceof type, `got ${String(error)}`);
      assert.equal(error.code, errorCode);
      assert.match(error.message, /^Cloud Monitoring listTimeSeries failed: /);
    });
  }

  it('recovers from one UNAVAILABLE within the call (the client retries it)', async () => {
    fake.setSeries(COUNT, [count(CANARY, '2xx', 5)]);
    fake.failNext(grpc.status.UNAVAILABLE);

    const reading = await metrics.read('rec-shop', [CANARY], { from: FROM, to: TO });

    assert.equal(reading.revisions[0]?.requests, 5);
    assert.equal(fake.calls.filter((c) => c.errorCode === grpc.status.UNAVAILABLE).length, 1);
  });
});
