/**
 * The Cloud Monitoring fake itself (test/support/fakes/monitoring-fake*.ts),
 * through the real MetricServiceClient: it refuses what the real API refuses
 * (each case cites its source there) and pages as the real API does, so the
 * adapter tests against it prove what they claim.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { MetricServiceClient } from '@google-cloud/monitoring';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';
import { MonitoringFake } from '../support/fakes/monitoring-fake.js';
import { int64, revisionSeries } from '../support/fakes/monitoring-fake-series.js';

const COUNT = 'run.googleapis.com/request_count';
const CANARY = 'rec-shop-r2';
const STABLE = 'rec-shop-r1';
const FROM = new Date('2026-03-02T10:00:00.000Z');
const THROUGH = new Date('2026-03-02T10:07:00.000Z');
const seconds = (date: Date) => String(date.getTime() / 1000);
const count = (revision: string, responseClass: string, n: number) =>
  revisionSeries({
    service: 'rec-shop',
    revision,
    metricLabels: { response_code_class: responseClass },
    from: FROM,
    through: THROUGH,
    values: [int64(n)],
  });

describe('Cloud Monitoring fake: requests the real API refuses', () => {
  let fake: MonitoringFake;
  let client: MetricServiceClient;
  const valid = {
    name: 'projects/test-project',
    filter: `metric.type = "${COUNT}"`,
    interval: { startTime: { seconds: 1000 }, endTime: { seconds: 1420 } },
    aggregation: {
      alignmentPeriod: { seconds: 420 },
      perSeriesAligner: 'ALIGN_DELTA' as const,
      crossSeriesReducer: 'REDUCE_SUM' as const,
    },
  };

  beforeEach(async () => {
    fake = new MonitoringFake();
    await fake.start();
    client = new MetricServiceClient(fakeClientOptions(fake.port));
  });

  afterEach(async () => {
    await client.close();
    await fake.stop();
  });

  const refused: [string, object, grpc.status, RegExp][] = [
    [
      'an end before the start',
      { interval: { startTime: { seconds: 1420 }, endTime: { seconds: 1000 } } },
      grpc.status.INVALID_ARGUMENT,
      /start time must not be later/,
    ],
    [
      'no end time',
      { interval: { startTime: { seconds: 1000 } } },
      grpc.status.INVALID_ARGUMENT,
      /endTime is required/,
    ],
    [
      'an aligner without a period',
      { aggregation: { perSeriesAligner: 'ALIGN_DELTA' } },
      grpc.status.INVALID_ARGUMENT,
      /alignmentPeriod is required/,
    ],
    [
      'a period under 60 s',
      { aggregation: { ...valid.aggregation, alignmentPeriod: { seconds: 30 } } },
      grpc.status.INVALID_ARGUMENT,
      /at least 60 seconds/,
    ],
    [
      'a reducer without an aligner',
      { aggregation: { alignmentPeriod: { seconds: 60 }, crossSeriesReducer: 'REDUCE_SUM' } },
      grpc.status.INVALID_ARGUMENT,
      /needs a per-series aligner/,
    ],
    [
      'a filter without a metric type',
      { filter: 'resource.type = "cloud_run_revision"' },
      grpc.status.INVALID_ARGUMENT,
      /exactly one metric.type/,
    ],
    [
      'a filter it cannot parse',
      { filter: `metric.type = "${COUNT}" AND revision_name ~ "x"` },
      grpc.status.INVALID_ARGUMENT,
      /cannot parse/,
    ],
    ['another project', { name: 'projects/someone-else' }, grpc.status.PERMISSION_DENIED, /denied/],
  ];
  for (const [what, change, code, message] of refused) {
    it(`refuses ${what}`, async () => {
      const error = await client.listTimeSeries({ ...valid, ...change }, { timeout: 1_000 }).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e as { code?: number; message?: string },
      );

      assert.equal(error.code, code);
      assert.match(error.message ?? '', message);
    });
  }

  it('answers a valid request page by page, at most page_size points a page', async () => {
    fake.setSeries(COUNT, [count(CANARY, '2xx', 1), count(STABLE, '2xx', 2)]);
    const interval = {
      startTime: { seconds: Number(seconds(FROM)) },
      endTime: { seconds: Number(seconds(THROUGH)) },
    };
    const manual = { timeout: 1_000, autoPaginate: false };

    const [first, next] = await client.listTimeSeries({ ...valid, interval, pageSize: 1 }, manual);
    assert.ok(next, 'a next page');
    const [second, last] = await client.listTimeSeries(next, manual);

    const values = (page: typeof first) =>
      page.map((s) => [s.resource?.labels?.revision_name, s.points?.[0]?.value?.int64Value]);
    assert.deepEqual(values(first), [[CANARY, '1']]);
    assert.deepEqual(values(second), [[STABLE, '2']]);
    assert.equal(last, null, 'no page after the last');
    assert.deepEqual(
      fake.requests().map((r) => r.pageToken ?? ''),
      ['', 'page-1'],
    );
  });
});
