/**
 * SEARCH_THREADS against the real server: the sample bundle with a 2-shard
 * index, served once with its shards searched on a thread each (`auto`) and
 * once on the main thread (`0`), must give byte-identical predictions. Then,
 * in-process, a search worker that dies turns readiness and predict into
 * errors instead of crashing the server.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ConfigError, RecordingLogger } from '@recdeploy/shared';
import {
  buildIndex,
  calibrationQueries,
  createPreprocessor,
  loadParallelHnswSearcher,
  loadQueryEncoder,
  loadTf,
  readBundle,
  sampleInstances,
  type ModelBundle,
} from '@recdeploy/shared/ann';
import { startServingApp, type ServingApp } from '../../../services/ann-serving/src/app.js';
import { loadServingConfig } from '../../../services/ann-serving/src/config/serving-config.js';
import { BundleServingModel } from '../../../services/ann-serving/src/model/bundle-serving-model.js';
import { signatureOf } from '../../../services/ann-serving/src/model/manifest-signature.js';
import { sampleBundleWithoutIndex } from '../../support/ann-serving/sample-bundle.js';
import { predict, rawRequest } from '../../support/ann-serving/raw-http.js';
import {
  startServer,
  waitUntilReady,
  type ServerProcess,
} from '../../support/ann-serving/server-process.js';

const SHARDS = 2;

/** The sample bundle (300 products) with a 2-shard index instead of its single graph. */
async function twoShardBundle(): Promise<ModelBundle> {
  const copy = await sampleBundleWithoutIndex();
  const bundle = await readBundle(copy.dir);
  const encoder = await loadQueryEncoder(bundle);
  try {
    await buildIndex({
      candidates: bundle.candidates,
      calibrationQueries: calibrationQueries(bundle, encoder, 200),
      outDir: path.join(bundle.dir, 'index'),
      shards: SHARDS,
    });
  } finally {
    encoder.dispose();
  }
  return bundle;
}

function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('ann-serving SEARCH_THREADS configuration', () => {
  it('is auto by default, 0 on request, and nothing else', () => {
    assert.equal(loadServingConfig({ MODEL_PATH: '/m' }).searchThreads, 'auto');
    assert.equal(
      loadServingConfig({ MODEL_PATH: '/m', SEARCH_THREADS: 'auto' }).searchThreads,
      'auto',
    );
    assert.equal(loadServingConfig({ MODEL_PATH: '/m', SEARCH_THREADS: '0' }).searchThreads, 0);
    assert.throws(
      () => loadServingConfig({ MODEL_PATH: '/m', SEARCH_THREADS: '2' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'SEARCH_THREADS="2" is invalid: expected one of auto, 0',
        ]);
        return true;
      },
    );
  });
});

describe('ann-serving SEARCH_THREADS (real server, 2-shard index)', function () {
  this.timeout(180_000);
  let bundle: ModelBundle;
  const servers: Record<'auto' | '0', ServerProcess | undefined> = {
    auto: undefined,
    '0': undefined,
  };

  before(async () => {
    bundle = await twoShardBundle();
    for (const threads of ['auto', '0'] as const) {
      const server = await startServer({
        MODEL_PATH: bundle.dir,
        SEARCH_THREADS: threads,
        BATCH_TIMEOUT_MICROS: '2000',
        MAX_INSTANCES: '64',
      });
      servers[threads] = server;
      await waitUntilReady(server);
    }
  });

  after(async () => {
    const running = Object.values(servers).filter((server) => server !== undefined);
    const exits = await Promise.all(running.map((server) => server.stop()));
    // SIGTERM disposes the model: the search threads end and the process exits cleanly.
    for (const exit of exits) assert.deepEqual(exit, { code: 0, signal: null });
  });

  it('logs and exports how the index is searched', async () => {
    const expected = {
      auto: { search: 'main+workers', searchThreads: SHARDS },
      '0': { search: 'main-thread', searchThreads: 1 },
    };
    for (const threads of ['auto', '0'] as const) {
      const server = servers[threads]!;
      const loaded = server.logs.find((line) => line.message === 'HNSW index loaded');
      assert.ok(loaded, `SEARCH_THREADS=${threads}: no "HNSW index loaded" line`);
      assert.equal(loaded.shards, SHARDS);
      assert.equal(loaded.search, expected[threads].search);
      assert.equal(loaded.searchThreads, expected[threads].searchThreads);
      const metrics = await rawRequest(server.port, { path: '/metrics' });
      assert.equal(metrics.status, 200);
      assert.equal(
        metricValue(metrics.body, 'ann_serving_search_threads'),
        expected[threads].searchThreads,
      );
      assert.equal(metricValue(metrics.body, 'ann_serving_model_ready'), 1);
    }
  });

  it('predicts identically with and without search threads, alone and batched', async () => {
    const instances = [...bundle.examples, ...sampleInstances(bundle, 120, 5)];
    // Requests one after another, so both servers encode exactly the same batches
    // (the encoder's float rounding depends on the batch: fast path up to 8, TF.js beyond).
    const requests = [
      ...instances.map((instance) => ({ instances: [instance] })),
      ...[3, 8, 9, 64].map((size) => ({ instances: instances.slice(0, size), k: 37 })),
      // k above a shard's 150 rows: every row of both shards.
      { instances: instances.slice(0, 5), k: 300 },
    ];
    const answers = async (threads: 'auto' | '0') => {
      const bodies: string[] = [];
      for (const request of requests) {
        const response = await predict(servers[threads]!.port, JSON.stringify(request));
        assert.equal(response.status, 200, response.body);
        bodies.push(response.body);
      }
      return bodies;
    };
    const [withThreads, mainThread] = [await answers('auto'), await answers('0')];
    withThreads.forEach((body, i) => assert.equal(body, mainThread[i], `request ${i}`));
  });

  it('serves concurrent requests through the worker threads', async () => {
    const port = servers.auto!.port;
    const responses = await Promise.all(
      sampleInstances(bundle, 200, 6).map((instance) =>
        predict(port, JSON.stringify({ instances: [instance], k: 10 })),
      ),
    );
    for (const response of responses) {
      assert.equal(response.status, 200, response.body);
      const { predictions } = JSON.parse(response.body) as {
        predictions: { product_ids: number[] }[];
      };
      assert.equal(new Set(predictions[0]!.product_ids).size, 10);
    }
  });
});

describe('ann-serving with a failed search worker (in-process)', function () {
  this.timeout(180_000);
  let app: ServingApp | undefined;

  after(async () => {
    await app?.shutdown();
  });

  it('answers predict 500 and /health 503 for good, logs it, and does not crash', async () => {
    const bundle = await twoShardBundle();
    const logger = new RecordingLogger();
    const config = loadServingConfig({ MODEL_PATH: bundle.dir, HOST: '127.0.0.1', PORT: '0' });
    const workers: Worker[] = [];
    const runtime = await loadTf();
    const searcher = await loadParallelHnswSearcher(bundle.dir, bundle.candidates, {
      onWorker: (worker) => workers.push(worker),
      onFailure: (error) => logger.error('HNSW search worker failed', { err: error }),
    });
    const model = new BundleServingModel({
      name: config.modelName,
      version: config.modelVersion,
      bundle,
      signature: signatureOf(bundle.manifest),
      preprocessor: createPreprocessor(bundle.manifest, bundle.vocabularies, {
        nonFinite: 'accept',
      }),
      encoder: await loadQueryEncoder(bundle, { runtime }),
      searcher,
      searchThreads: searcher.threads,
      maxK: 1000,
    });
    app = await startServingApp(config, logger, () => Promise.resolve(model));
    await app.loaded;
    const port = app.port;
    const body = JSON.stringify({ instances: bundle.examples.slice(0, 2) });
    assert.equal((await predict(port, body)).status, 200);
    assert.equal((await rawRequest(port, { path: '/health' })).status, 200);

    // A crash of one search thread (simulated while idle: see ParallelHnswOptions.onWorker).
    await workers[0]!.terminate();
    assert.match(searcher.failure?.message ?? '', /exited with code 1/);
    assert.equal(model.failure, searcher.failure);

    const failed = await predict(port, body);
    assert.equal(failed.status, 500);
    assert.deepEqual(JSON.parse(failed.body), { error: 'Internal error' });
    const health = await rawRequest(port, { path: '/health' });
    assert.equal(health.status, 503);
    assert.equal((JSON.parse(health.body) as { state: string }).state, 'FAILED');
    const metrics = await rawRequest(port, { path: '/metrics' });
    assert.equal(metricValue(metrics.body, 'ann_serving_model_ready'), 0);
    assert.equal(metricValue(metrics.body, 'ann_serving_search_threads'), SHARDS);
    const errors = logger.lines.filter((line) => line.level === 'error').map((l) => l.message);
    assert.deepEqual(errors, ['HNSW search worker failed', 'request failed']);
    // Still serving everything else, and still failing predict, not crashing.
    assert.equal((await predict(port, body)).status, 500);
    assert.equal((await rawRequest(port, { path: '/v1/models/recommender' })).status, 200);
  });
});
