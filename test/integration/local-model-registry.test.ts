import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  PermanentError,
  RecordingLogger,
  type RegisterModelRequest,
  type RegisteredModel,
} from '@recdeploy/shared';
import { LocalModelRegistry } from '@recdeploy/shared/local';

const CONTAINER = {
  imageUri: 'local/ann-serving',
  env: { SERVING_MODE: 'ann' },
  port: 8501,
  predictRoute: '/v1/models/recs:predict',
  healthRoute: '/v1/models/recs',
};

function request(endpoint: string, trainingRun: string, slug = 'Home Recs'): RegisterModelRequest {
  return {
    runId: `${endpoint}-${trainingRun}`,
    modelEndpointId: endpoint,
    trainingRunId: trainingRun,
    displayName: slug,
    description: `training run ${trainingRun}`,
    artifactUri: `file:///models/${endpoint}/${trainingRun}`,
    labels: {
      model_endpoint_id: endpoint,
      training_run_id: trainingRun,
      model_type: 'retrieval',
      recall_at_100: '0_9731',
    },
    container: CONTAINER,
  };
}

describe('LocalModelRegistry', () => {
  let dir = '';
  let file = '';
  let logger: RecordingLogger;
  let registry: LocalModelRegistry;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-registry-'));
    file = path.join(dir, 'nested', 'registry.db');
    logger = new RecordingLogger();
    registry = new LocalModelRegistry({
      file,
      logger,
      clock: () => new Date('2026-11-26T10:00:00Z'),
    });
  });
  afterEach(async () => {
    await registry.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates a model named like a Vertex resource with version 1, storing labels and container', async () => {
    const registered = await registry.registerModel(request('recs-home', 'run-001'));
    assert.deepEqual(registered, {
      model: 'projects/local/locations/local/models/home-recs-1',
      version: '1',
      reused: false,
      newModel: true,
    });
    assert.deepEqual(await registry.listVersions(registered.model), [
      {
        model: 'projects/local/locations/local/models/home-recs-1',
        version: '1',
        runId: 'recs-home-run-001',
        displayName: 'Home Recs',
        description: 'training run run-001',
        artifactUri: 'file:///models/recs-home/run-001',
        labels: request('recs-home', 'run-001').labels,
        container: CONTAINER,
        createdAt: '2026-11-26T10:00:00.000Z',
        // The first version holds `default` from upload, as on Vertex.
        aliases: ['default'],
      },
    ]);
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
    assert.deepEqual(
      logger.lines.map((l) => [l.level, l.message, l.meta.version, l.meta.runId]),
      [['info', 'model version registered', '1', 'recs-home-run-001']],
    );
  });

  it('adds the next run of the endpoint as version 2 of the same model', async () => {
    const first = await registry.registerModel(request('recs-home', 'run-001'));
    const second = await registry.registerModel(request('recs-home', 'run-002', 'renamed'));
    assert.deepEqual(second, { model: first.model, version: '2', reused: false, newModel: false });
    const versions = await registry.listVersions(first.model);
    assert.deepEqual(
      versions.map((v) => [v.version, v.labels.training_run_id]),
      [
        ['1', 'run-001'],
        ['2', 'run-002'],
      ],
    );
  });

  it('reuses the version carrying the run label instead of adding another', async () => {
    await registry.registerModel(request('recs-home', 'run-001'));
    await registry.registerModel(request('recs-home', 'run-002'));
    const again = await registry.registerModel(request('recs-home', 'run-001'));
    assert.deepEqual(again, {
      model: 'projects/local/locations/local/models/home-recs-1',
      version: '1',
      reused: true,
      newModel: false,
    });
    assert.equal((await registry.listVersions(again.model)).length, 2);
    assert.equal(logger.lines.at(-1)?.message, 'model version reused');
  });

  it('keeps one model per endpoint, found by the model_endpoint_id label, across reopening', async () => {
    const home = await registry.registerModel(request('recs-home', 'run-001'));
    const cart = await registry.registerModel(request('recs-cart', 'run-001', '!!!'));
    assert.deepEqual(cart, {
      model: 'projects/local/locations/local/models/recs-cart-2',
      version: '1',
      reused: false,
      newModel: true,
    });
    await registry.close();
    registry = new LocalModelRegistry({ file, logger });
    const next = await registry.registerModel(request('recs-cart', 'run-002'));
    assert.deepEqual(next, { model: cart.model, version: '2', reused: false, newModel: false });
    assert.deepEqual(
      (await registry.listModels()).map((m) => [m.model, m.modelEndpointId, m.displayName]),
      [
        [home.model, 'recs-home', 'Home Recs'],
        [cart.model, 'recs-cart', '!!!'],
      ],
    );
  });

  it('refuses a request without the labels it keys on', async () => {
    const bad = { ...request('recs-home', 'run-001'), labels: { model_endpoint_id: 'recs-home' } };
    await assert.rejects(registry.registerModel(bad), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.equal(error.code, 'REGISTRY.REJECTED');
      assert.equal(
        error.message,
        'run recs-home-run-001: labels must contain a non-empty "training_run_id" (got keys: model_endpoint_id)',
      );
      return true;
    });
    assert.deepEqual(await registry.listModels(), []);
  });

  it('refuses a file written by a newer schema', async () => {
    await registry.close();
    const db = new Database(file);
    db.pragma('user_version = 3');
    db.close();
    assert.throws(
      () => new LocalModelRegistry({ file, logger }),
      /model registry file has schema 3, newer than this program's 2/,
    );
  });

  it('gives one model and one version when two threads register the same run at the same instant', async function () {
    this.timeout(60_000);
    const ROUNDS = 12;
    const requests = Array.from({ length: ROUNDS }, (_, i) => request(`ep-${i}`, 'run-1'));
    const barrier = new SharedArrayBuffer(4 * ROUNDS);
    const [a, b] = await Promise.all([
      registerInWorker(file, requests, barrier),
      registerInWorker(file, requests, barrier),
    ]);
    for (let i = 0; i < ROUNDS; i++) {
      const pair = [a[i], b[i]] as RegisteredModel[];
      assert.equal(pair[0]?.model, pair[1]?.model, `round ${i}: one model`);
      assert.deepEqual(
        pair.map((r) => r.version),
        ['1', '1'],
      );
      assert.deepEqual(pair.map((r) => r.reused).sort(), [false, true], `round ${i}: one upload`);
      assert.deepEqual(pair.map((r) => r.newModel).sort(), [false, true]);
      assert.equal((await registry.listVersions(pair[0]?.model ?? '')).length, 1);
    }
    assert.equal((await registry.listModels()).length, ROUNDS);
  });
});

/**
 * Registers each request in a worker thread with its own LocalModelRegistry on
 * `file`; before request i, both workers meet at barrier slot i, so they race.
 * Workers run the sources the way mocha does: a bootstrap registers tsx first
 * (`--import tsx` does not reach an eval'd worker on Node 20).
 */
function registerInWorker(
  file: string,
  requests: readonly RegisterModelRequest[],
  barrier: SharedArrayBuffer,
): Promise<RegisteredModel[]> {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
    import('tsx/esm/api')
      .then(({ register }) => { register(); return import('@recdeploy/shared/local'); })
      .then(async ({ LocalModelRegistry }) => {
        const registry = new LocalModelRegistry({ file: workerData.file, logger: silent });
        const slots = new Int32Array(workerData.barrier);
        const results = [];
        for (const [i, request] of workerData.requests.entries()) {
          if (Atomics.add(slots, i, 1) + 1 === 2) Atomics.notify(slots, i);
          else while (Atomics.load(slots, i) < 2) Atomics.wait(slots, i, 1, 5000);
          results.push(await registry.registerModel(request));
        }
        await registry.close();
        parentPort.postMessage(results);
      })
  `;
  const worker = new Worker(code, {
    eval: true,
    workerData: { file, requests, barrier },
    execArgv: ['--conditions=source'],
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (results: RegisteredModel[]) => {
      resolve(results);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
