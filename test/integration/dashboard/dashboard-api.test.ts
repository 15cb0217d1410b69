import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunDocument, RunStatus } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { localDataFiles } from '@recdeploy/shared/wiring';
import {
  runDashboardUntilExit,
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
import { openEventStream } from '../../support/dashboard/sse-client.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const CHAIN: RunStatus[] = [
  'received',
  'registering',
  'registered',
  'deploying',
  'deployed',
  'verifying',
  'live',
];

interface Overview {
  runs: RunDocument[];
  live: Record<string, unknown>[];
  rejectedEvents: Record<string, unknown>[];
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

    it('serves the page with a fresh CSP nonce on its inline script and style', async () => {
      const first = await get('/');
      const second = await get('/');
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('content-type'), 'text/html; charset=utf-8');
      const csp = first.headers.get('content-security-policy') ?? '';
      const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
      assert.ok(nonce, csp);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /connect-src 'self'/);
      const html = await first.text();
      assert.ok(html.includes(`<script nonce="${nonce}">`));
      assert.ok(html.includes(`<style nonce="${nonce}">`));
      assert.ok(!html.includes('{{nonce}}'));
      assert.notEqual(second.headers.get('content-security-policy'), csp);
      assert.equal(first.headers.get('x-content-type-options'), 'nosniff');
    });

    it('answers an empty overview before any run exists', async () => {
      const { status, body } = await getJson<Overview>('/api/runs');
      assert.equal(status, 200);
      assert.deepEqual(
        { runs: body.runs, live: body.live, rejectedEvents: body.rejectedEvents },
        { runs: [], live: [], rejectedEvents: [] },
      );
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

    it('lists the runs newest first, the live revision per service and the rejected events', async () => {
      const { status, body } = await getJson<Overview>('/api/runs');
      assert.equal(status, 200);
      assert.deepEqual(
        body.runs.map((run) => run.runId),
        [other.runId, failed.runId, second.runId, first.runId],
      );
      assert.deepEqual(body.runs[1], failed);
      // Run 1 and run 2 are both `live` in the store; the newer one serves the service.
      assert.deepEqual(body.live, [
        {
          service: 'rec-recs-cart',
          runId: other.runId,
          modelEndpointId: 'recs-cart',
          runNumber: 1,
          revision: 'rec-recs-cart-r1-0badcafe',
          url: 'https://rec-recs-cart-abc.a.run.app',
          liveSince: other.updatedAt,
          updatedAt: other.updatedAt,
        },
        {
          service: 'rec-recs-home',
          runId: second.runId,
          modelEndpointId: 'recs-home',
          runNumber: 2,
          revision: secondFixture.serving.revision,
          url: secondFixture.serviceUrl,
          liveSince: second.updatedAt,
          updatedAt: second.updatedAt,
        },
      ]);
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
      // The live revisions do not depend on the page of runs listed.
      assert.equal(limited.body.live.length, 2);
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

  describe('live updates', () => {
    it('streams every change committed by another process after connecting, then heartbeats', async () => {
      const stream = await openEventStream(new URL('/api/events', dashboard.url).href);
      try {
        assert.equal(stream.status, 200);
        assert.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8');
        assert.equal(stream.headers['cache-control'], 'no-store');
        assert.deepEqual(JSON.parse((await stream.next('ready')).data), {
          heartbeatIntervalMs: 100,
        });

        const fixture = sampleRunFixture({ modelEndpointId: 'recs-sse' }, '5e5e5e5e');
        const written: RunDocument[] = [];
        for (const step of stepsToLive(store, fixture)) written.push(await step.write());
        const received: RunDocument[] = [];
        while (received.length < CHAIN.length) {
          received.push(JSON.parse((await stream.next('run')).data) as RunDocument);
        }
        // Every version, in commit order, each exactly as the writer's store returned it.
        assert.deepEqual(
          received.map((run) => run.status),
          CHAIN,
        );
        assert.deepEqual(received, written);

        const heartbeat = JSON.parse((await stream.next('heartbeat')).data) as { at: string };
        assert.ok(Date.now() - Date.parse(heartbeat.at) < 5_000, heartbeat.at);
      } finally {
        stream.close();
      }
    });
  });

  describe('the process', () => {
    it('ends open event streams and exits 0 on SIGTERM', async () => {
      const own = await startDashboardProcess({ dataDir: dir });
      const stream = await openEventStream(new URL('/api/events', own.url).href);
      await stream.next('ready');
      const exit = await own.stop('SIGTERM');
      await stream.ended;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.deepEqual(own.logs.map((entry) => entry.message).slice(-2), [
        'signal received',
        'dashboard stopped',
      ]);
      assert.equal(own.logs.at(-1)?.drained, true);
    });

    it('exits 2 naming every invalid variable', async () => {
      const result = await runDashboardUntilExit({
        RECDEPLOY_DATA_DIR: dir,
        PORT: 'eighty',
        RECDEPLOY_BACKEND: 'gcp',
      });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /GOOGLE_CLOUD_PROJECT is required when RECDEPLOY_BACKEND=gcp/);
      assert.match(result.stderr, /PORT="eighty" is invalid/);
    });
  });
});
