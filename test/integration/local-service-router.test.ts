/**
 * The local service router alone, in front of a stub revision (a plain HTTP
 * server on loopback that answers as told), recording into a real SQLite
 * serving file that LocalRevisionMetrics reads back through its own
 * connection: time-outs, failures, answer inspection and pass-through.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger } from '@recdeploy/shared';
import { LocalRevisionMetrics } from '../../shared/adapters/local/local-revision-metrics.js';
import { RouterMetricsRecorder } from '../../shared/adapters/local/local-router-metrics.js';
import type { RouteTarget } from '../../shared/adapters/local/local-serving-records.js';
import { LocalServingState } from '../../shared/adapters/local/local-serving-state.js';
import { LocalServiceRouter } from '../../shared/adapters/local/local-service-router.js';

const SERVICE = 'recs';
const REVISION = 'recs-stub';
const MIB = 1024 * 1024;

/** A predict answer with `rows` predictions of `ids` ids, scores descending (or all equal). */
function answer(rows: number, ids: number, equalScores = false): string {
  const prediction = {
    product_ids: Array.from({ length: ids }, (_, i) => 1001 + i),
    scores: Array.from({ length: ids }, (_, i) => (equalScores ? 0.5 : 1 - i / 100)),
  };
  return JSON.stringify({ predictions: Array.from({ length: rows }, () => prediction) });
}

describe('LocalServiceRouter (stub revision, real SQLite metrics)', function () {
  this.timeout(30_000);
  let dir: string;
  let file: string;
  let upstream: http.Server;
  let recorder: RouterMetricsRecorder;
  let router: LocalServiceRouter;
  let routerUrl: string;
  let target: RouteTarget;
  const bigAnswer = answer(1, 1, true).replace(
    '{"predictions"',
    `{"pad":"${'x'.repeat(MIB)}","predictions"`,
  );

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-router-'));
    file = path.join(dir, 'serving.db');
    new LocalServingState(file).close(); // the schema
    upstream = http.createServer((request, response) => {
      request.resume();
      const url = request.url ?? '';
      if (url.startsWith('/hang')) return; // never answers
      if (url.startsWith('/partial')) return void response.writeHead(200).write('{"predictions":[');
      const body = url.includes('big')
        ? bigAnswer
        : url.includes('equal')
          ? answer(3, 5, true)
          : answer(2, 5);
      response.writeHead(url.includes('fail') ? 503 : 200, { 'content-type': 'application/json' });
      response.end(body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    target = {
      revision: REVISION,
      port: (upstream.address() as AddressInfo).port,
      state: 'ready',
      percent: 100,
      timeoutS: 1,
    };
    const port = await freePort();
    recorder = new RouterMetricsRecorder(file, new RecordingLogger());
    router = new LocalServiceRouter({
      service: SERVICE,
      host: '127.0.0.1',
      port,
      routeTargets: () => [target],
      metrics: recorder,
      logger: new RecordingLogger(),
    });
    await router.listen();
    routerUrl = `http://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    await router.close();
    recorder.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * What LocalRevisionMetrics reads since `from` once the router has recorded
   * `requests` requests (each when its response closes; inspection just after).
   */
  async function metrics(from: number, requests: number) {
    const source = new LocalRevisionMetrics(file);
    const read = async () => {
      recorder.flush();
      const window = { from: new Date(from), to: new Date(Date.now() + 2_000) };
      return (await source.read(SERVICE, [REVISION], window)).revisions[0]!;
    };
    try {
      const deadline = Date.now() + 5_000;
      while ((await read()).requests < requests && Date.now() < deadline) await sleep(20);
      await sleep(50);
      return await read();
    } finally {
      await source.close();
    }
  }

  it('keeps idle client connections 65 s and says so, so a keep-alive client closes them first', async () => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      const header = await new Promise<string | string[] | undefined>((resolve, reject) => {
        http
          .get(`${routerUrl}/v1/models/recommender`, { agent }, (response) => {
            response.resume();
            resolve(response.headers['keep-alive']);
          })
          .on('error', reject);
      });
      // Node's default (5 s) met a loaded client's reuse of an idle socket:
      // one ECONNRESET in 1,269 requests of a canary episode in CI.
      assert.equal(header, 'timeout=65');
    } finally {
      agent.destroy();
    }
  });

  it('answers 504 with a JSON error past the revision’s request timeout, and counts it as an error', async () => {
    const from = Math.floor(Date.now() / 1000) * 1000;
    const response = await fetch(`${routerUrl}/hang`);
    assert.equal(response.status, 504);
    assert.equal(response.headers.get('x-recdeploy-revision'), REVISION);
    assert.deepEqual(await response.json(), {
      error: `live revision ${REVISION} of service ${SERVICE} did not answer within its request timeout of 1 s`,
    });
    // Headers already sent: the answer is cut, and still the revision's failure.
    await assert.rejects(fetch(`${routerUrl}/partial`).then((r) => r.text()));
    const ok = await fetch(`${routerUrl}/v1/models/recs`);
    assert.equal(ok.status, 200);
    await ok.text();
    const read = await metrics(from, 3);
    assert.equal(read.requests, 3);
    assert.equal(read.errors, 2);
    assert.ok((read.latencyP99Ms ?? 0) >= 1_000, `p99 ${read.latencyP99Ms} covers the time-out`);
  });

  it('counts 5xx answers and its own 502s as errors, naming the revision it chose', async () => {
    const from = Math.floor(Date.now() / 1000) * 1000;
    assert.equal((await fetch(`${routerUrl}/fail`)).status, 503);
    target = { ...target, percent: 10, state: 'starting' };
    const down = await fetch(`${routerUrl}/v1/models/recs`);
    assert.equal(down.status, 502);
    assert.equal(down.headers.get('x-recdeploy-revision'), REVISION);
    assert.deepEqual(await down.json(), {
      error: `revision ${REVISION} (10% of the traffic) of service ${SERVICE} is starting`,
    });
    target = { ...target, state: 'ready', port: await freePort() }; // nothing listens there
    const refused = await fetch(`${routerUrl}/v1/models/recs`);
    assert.equal(refused.status, 502);
    assert.match(
      ((await refused.json()) as { error: string }).error,
      new RegExp(
        `^revision ${REVISION} \\(10% of the traffic\\) of service recs is not answering on port ${target.port}: ECONNREFUSED$`,
      ),
    );
    const read = await metrics(from, 3);
    assert.deepEqual([read.requests, read.errors], [3, 3]);
  });

  it('inspects successful predict answers without changing them, and skips bodies over 1 MiB', async () => {
    const from = Math.floor(Date.now() / 1000) * 1000;
    const post = async (pathName: string, body: object) => {
      const response = await fetch(`${routerUrl}${pathName}`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    };
    const fine = await post('/v1/models/recs:predict', { instances: [{}, {}] });
    assert.deepEqual(fine, { status: 200, text: answer(2, 5) }, 'passed through unchanged');
    // k 6 > 5 ids: both predictions are degenerate.
    assert.equal(
      (await post('/v1/models/recs:predict', { instances: [{}, {}], k: 6 })).status,
      200,
    );
    assert.equal(
      (await post('/v1/models/recs/versions/1:predict?equal', { instances: [] })).status,
      200,
    );
    const big = await post('/v1/models/recs:predict?big', { instances: [{}] });
    assert.deepEqual(big, { status: 200, text: bigAnswer }, 'a large answer passes whole');
    // Not inspected: not a predict route, or not a success.
    assert.equal((await post('/v1/models/recs:predicted?equal', {})).status, 200);
    assert.equal((await post('/v1/models/recs:predict?fail', {})).status, 503);
    const read = await metrics(from, 6);
    assert.equal(read.requests, 6);
    assert.equal(read.errors, 1);
    // One answer each (however many predictions): fine, k too large, all scores equal.
    assert.deepEqual(read.answers, { inspected: 3, degenerate: 2 });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = http.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
