import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FreshnessAlert, RunDocument, ServingRecord } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { localDataFiles } from '@recdeploy/shared/wiring';
import {
  startDashboardProcess,
  type DashboardProcess,
} from '../../support/dashboard/dashboard-process.js';
import {
  sampleRunFixture,
  stepsToFailedVerification,
  stepsToLive,
  walk,
  type RunFixture,
} from '../../support/dashboard/chain-walk.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

interface Overview {
  runs: RunDocument[];
  serving: ServingRecord[];
  rejectedEvents: Record<string, unknown>[];
  rejectedEventsLimit: number;
  freshnessAlerts: FreshnessAlert[];
  generatedAt: string;
}

describe('dashboard HTTP API (a real process over a SQLite run store)', function () {
  this.timeout(60_000);
  let dir = '';
  let store: SqliteRunStore;
  let dashboard: DashboardProcess;
  let tick = 0;
  /** Each write one second after the previous: updatedAt orders the runs. */
  const clock = (): Date => new Date(T0 + ++tick * 1_000);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-dashboard-api-'));
    // The chain's handle on the same file the dashboard reads: another process's writes.
    store = new SqliteRunStore({ file: localDataFiles(dir).runStore });
    dashboard = await startDashboardProcess({
      dataDir: dir,
      env: { HEARTBEAT_INTERVAL_MS: '100' },
    });
  });
  after(async () => {
    await dashboard?.stop();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function get(pathname: string, init?: RequestInit): Promise<Response> {
    return fetch(new URL(pathname, dashboard.url), init);
  }
  async function getJson<T>(pathname: string): Promise<{ status: number; body: T }> {
    const response = await get(pathname);
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    return { status: response.status, body: (await response.json()) as T };
  }

  describe('before any run', () => {
    it('logs where it listens, and answers /healthz', async () => {
      const line = dashboard.logs.find((entry) => entry.message === 'dashboard listening');
      assert.equal(line?.url, dashboard.url);
      assert.equal(line?.backend, 'local');
      assert.equal(line?.dataDir, dir);
      assert.deepEqual(await getJson('/healthz'), { status: 200, body: { status: 'ok' } });
    });

    it('answers an empty overview before any run exists', async () => {
      const { status, body } = await getJson<Overview>('/api/runs');
      assert.equal(status, 200);
      assert.deepEqual(
        { runs: body.runs, serving: body.serving, rejectedEvents: body.rejectedEvents },
        { runs: [], serving: [], rejectedEvents: [] },
      );
      // The page counts rejected events by kind within this many.
      assert.equal(body.rejectedEventsLimit, 200);
      assert.ok(!Number.isNaN(Date.parse(body.generatedAt)));
    });

    it('refuses every method but GET and HEAD with 405 and an Allow header', async () => {
      for (const [method, pathname] of [
        ['POST', '/api/runs'],
        ['PUT', '/api/runs/recs-home-train-001'],
        ['DELETE', '/api/runs/recs-home-train-001'],
        ['PATCH', '/'],
        ['OPTIONS', '/api/events'],
        ['POST', '/no-such-page'],
      ] as const) {
        const response = await get(pathname, { method });
        assert.equal(response.status, 405, `${method} ${pathname}`);
        assert.equal(response.headers.get('allow'), 'GET, HEAD');
        assert.deepEqual(await response.json(), {
          error: `${method} is not allowed: the dashboard is read-only`,
        });
      }
      const head = await get('/api/runs', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
    });

    it('answers 404 for an unknown path', async () => {
      assert.deepEqual(await getJson('/admin'), {
        status: 404,
        body: { error: 'no such page: /admin' },
      });
    });
  });

  describe('with runs in the store', () => {
    let first: RunDocument;
    let second: RunDocument;
    let failed: RunDocument;
    let other: RunDocument;
    let secondFixture: RunFixture;

    before(async () => {
      first = await walk(stepsToLive(store, sampleRunFixture(), { clock }));
      secondFixture = sampleRunFixture({ trainingRunId: 'train-002', runNumber: 2 }, 'e5f6a7b8');
      second = await walk(stepsToLive(store, secondFixture, { clock }));
      const failing = sampleRunFixture({ trainingRunId: 'train-003', runNumber: 3 }, 'c0ffee00');
      failed = await walk(
        stepsToFailedVerification(
          store,
          {
            ...failing,
            verification: {
              checks: [
                { name: 'model_available', passed: true, detail: 'AVAILABLE after 0.8 s' },
                { name: 'latency', passed: false, detail: 'p99 1450 ms > 1000 ms' },
              ],
              latencyP50Ms: 310,
              latencyP99Ms: 1450,
            },
          },
          { clock },
        ),
      );
      other = await walk(
        stepsToLive(store, sampleRunFixture({ modelEndpointId: 'recs-cart' }, '0badcafe'), {
          clock,
        }),
      );
      await store.recordRejectedEvent({
        eventId: 'evt-bad-1',
        code: 'EVENT.INVALID',
        reason: 'data.model_endpoint_id is required',
        source: '//pubsub.googleapis.com/projects/p/topics/training-completed',
        excerpt: '{"training_run_id":"x"}',
        receivedAt: new Date(T0 + 99_000).toISOString(),
      });
    });

    it('lists the runs newest first, the serving record per service and the rejected events', async () => {
      const { status, body } = await getJson<Overview>('/api/runs');
      assert.equal(status, 200);
      // Run 2 took run 1's traffic in the same write that made it live: run 1 is replaced.
      const replaced = await store.getRun(first.runId);
      assert.equal(replaced?.status, 'replaced');
      assert.equal(replaced?.replacedBy, second.runId);
      assert.deepEqual(body.runs, await store.listRuns({ limit: 200 }));
      assert.deepEqual(
        body.runs.slice(0, 2).map((run) => run.runId),
        [other.runId, failed.runId],
      );
      assert.deepEqual(body.runs[1], failed);
      // What serves comes from the serving records, as stored, one per service by name.
      assert.deepEqual(body.serving, await store.listServingRecords());
      assert.deepEqual(
        body.serving.map((record) => ({
          service: record.service,
          modelEndpointId: record.modelEndpointId,
          serviceUrl: record.serviceUrl,
          liveRevision: record.liveRevision,
          liveRunId: record.liveRunId,
          traffic: record.traffic,
          since: record.since,
          previous: record.previous,
        })),
        [
          {
            service: 'rec-recs-cart',
            modelEndpointId: 'recs-cart',
            serviceUrl: 'https://rec-recs-cart-abc.a.run.app',
            liveRevision: 'rec-recs-cart-r1-0badcafe',
            liveRunId: other.runId,
            traffic: [{ revision: 'rec-recs-cart-r1-0badcafe', percent: 100, runId: other.runId }],
            since: other.updatedAt,
            previous: undefined,
          },
          {
            service: 'rec-recs-home',
            modelEndpointId: 'recs-home',
            serviceUrl: secondFixture.serviceUrl,
            liveRevision: secondFixture.serving.revision,
            liveRunId: second.runId,
            traffic: [
              { revision: secondFixture.serving.revision, percent: 100, runId: second.runId },
            ],
            since: second.updatedAt,
            previous: {
              revision: first.serving?.revision,
              runId: first.runId,
              until: second.updatedAt,
            },
          },
        ],
      );
      assert.deepEqual(body.rejectedEvents, [
        {
          eventId: 'evt-bad-1',
          code: 'EVENT.INVALID',
          reason: 'data.model_endpoint_id is required',
          source: '//pubsub.googleapis.com/projects/p/topics/training-completed',
          excerpt: '{"training_run_id":"x"}',
          receivedAt: new Date(T0 + 99_000).toISOString(),
        },
      ]);
    });

    it('honours ?limit and refuses a bad one, saying what it got', async () => {
      const limited = await getJson<Overview>('/api/runs?limit=2');
      assert.deepEqual(
        limited.body.runs.map((run) => run.runId),
        [other.runId, failed.runId],
      );
      // The serving records do not depend on the page of runs listed.
      assert.equal(limited.body.serving.length, 2);
      for (const bad of ['0', '501', '2.5', 'ten']) {
        assert.deepEqual(await getJson(`/api/runs?limit=${bad}`), {
          status: 400,
          body: { error: `limit must be a whole number from 1 to 500, got "${bad}"` },
        });
      }
    });

    it('answers one run document exactly as stored, and 404 for an unknown id', async () => {
      assert.deepEqual(await getJson(`/api/runs/${encodeURIComponent(failed.runId)}`), {
        status: 200,
        body: await store.getRun(failed.runId),
      });
      assert.deepEqual(await getJson('/api/runs/recs-home-train-404'), {
        status: 404,
        body: { error: 'no run with id "recs-home-train-404"' },
      });
      assert.deepEqual(await getJson('/api/runs/%E0%A4%A'), {
        status: 400,
        body: { error: 'the run id "%E0%A4%A" is not valid URL encoding' },
      });
    });

    it('keeps untrusted text intact in JSON (the page escapes it)', async () => {
      const hostile = await walk(
        stepsToLive(
          store,
          sampleRunFixture(
            {
              modelEndpointId: 'recs-xss',
              modelSlug: '</script><script>alert(1)</script>',
            },
            'deadbeef',
          ),
          { clock },
        ),
      );
      const { body } = await getJson<RunDocument>(`/api/runs/${hostile.runId}`);
      assert.equal(body.modelSlug, '</script><script>alert(1)</script>');
    });
  });

  describe('freshness alerts', () => {
    it('carries the open alerts in /api/runs and /api/freshness, and drops a closed one', async () => {
      const alert: FreshnessAlert = {
        alertId: 'recs-fresh:max_age:2030-01-08T00:00:00.000Z',
        modelEndpointId: 'recs-fresh',
        kind: 'max_age',
        thresholdS: 604_800,
        breachedSince: '2030-01-08T00:00:00.000Z',
        detail: 'the live run recs-fresh-t1 finished training 8d ago (limit 7d)',
        liveRunId: 'recs-fresh-t1',
        openedAt: '2030-01-09T00:00:00.000Z',
      };
      assert.deepEqual((await getJson<Overview>('/api/runs')).body.freshnessAlerts, []);
      await store.openFreshnessAlert(alert);
      assert.deepEqual((await getJson<Overview>('/api/runs')).body.freshnessAlerts, [alert]);
      const alone = await getJson<{ freshnessAlerts: FreshnessAlert[] }>('/api/freshness');
      assert.equal(alone.status, 200);
      assert.deepEqual(alone.body.freshnessAlerts, [alert]);
      await store.closeFreshnessAlert(alert.alertId);
      assert.deepEqual((await getJson<Overview>('/api/freshness')).body.freshnessAlerts, []);
    });
  });
});
