/**
 * The registry's `live` alias follows what serves (shared/usecases/serving-alias.ts):
 * the Vertex adapter over real gRPC to the Vertex fake (which enforces the
 * alias rules), a real SQLite run store, the platform in memory. A rollback
 * moves `live` (and `default`) back to the old version; the reconciler's pass
 * puts it on the serving record's live run, and converges a move that failed;
 * verify's promote and a completed canary move it to their run's version.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { buildModelDeployedV1 } from '@recdeploy/events';
import { RecordingLogger } from '@recdeploy/shared';
import {
  advanceCanary,
  handleModelDeployed,
  loadChainConfig,
  requestCanary,
  reconcile,
  rollbackService,
  type ReconcileDeps,
} from '@recdeploy/shared/chain';
import { LocalArtifactStore, SqliteRunStore } from '@recdeploy/shared/local';
import { VertexModelRegistry } from '../../../shared/adapters/gcp/vertex-model-registry.js';
import { startAsCanary, walkRun } from '../../fixtures/canary-runs.js';
import { messagePublished } from '../../fixtures/events/deliveries.js';
import { completeAsChain, deployedTo, registeredAs, sampleIdentity } from '../../fixtures/runs.js';
import { MemoryPlatform } from '../../support/chain/memory-platform.js';
import { ScriptedMetrics } from '../../support/chain/scripted-metrics.js';
import { fakeClientOptions } from '../../support/fakes/grpc-fake-server.js';
import { VertexFake } from '../../support/fakes/vertex-fake.js';
import { RecordingBus } from '../cli/rollback-bench.js';

const SERVICE = 'recs-home';
/** test/fixtures/runs.ts registeredAs(n): version n of this model. */
const MODEL = 'projects/p/locations/l/models/recs-home';

describe('the registry’s live alias follows what serves', function () {
  this.timeout(30_000);
  let dir: string;
  let store: SqliteRunStore;
  let fake: VertexFake;
  let registry: VertexModelRegistry;
  let logger: RecordingLogger;
  let deps: ReconcileDeps;
  let platform: MemoryPlatform;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-alias-'));
    store = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
    fake = new VertexFake({ project: 'p', location: 'l' });
    fake.seedModel(
      ['train-1', 'train-2', 'train-3', 'train-4'].map((run) => ({
        labels: { training_run_id: run },
      })),
      'recs-home',
    );
    const port = await fake.start();
    logger = new RecordingLogger();
    registry = new VertexModelRegistry({
      projectId: 'p',
      region: 'l',
      logger,
      clientOptions: fakeClientOptions(port),
    });
    platform = new MemoryPlatform();
    platform.addService(SERVICE, 'r1', ['r2', 'r3', 'r4']);
    await platform.promote(SERVICE, 'r2');
    deps = {
      config: loadChainConfig({ RECDEPLOY_DATA_DIR: dir }),
      logger,
      runStore: store,
      eventBus: new RecordingBus(),
      platform,
      metrics: new ScriptedMetrics(),
      indexBuilds: {
        start: () => Promise.reject(new Error('no index builds in this test')),
        status: () => Promise.reject(new Error('no index builds in this test')),
        close: () => Promise.resolve(),
      },
      registry,
    };
    // Run 1 served r1 (version 1), then run 2 replaced it on r2 (version 2).
    for (const [n, revision] of [
      [1, 'r1'],
      [2, 'r2'],
    ] as const) {
      await walkRun(store, {
        trainingRunId: `train-${n}`,
        runNumber: n,
        service: SERVICE,
        revision,
        verified: true,
        startMs: n * 1000,
      });
    }
  });

  after(async () => {
    await registry?.close();
    await fake?.stop();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts with only default, on the first version (set at upload)', () => {
    assert.deepEqual(fake.aliasesOf(MODEL), { default: '1' });
  });

  it('puts live (and default) on the version that serves at the reconciler’s pass, once', async () => {
    const report = await reconcile(deps);
    assert.deepEqual(report.errors, []);
    assert.deepEqual(fake.aliasesOf(MODEL), { default: '2', live: '2' });
    const merges = fake.mergeVersionAliasesRequests.length;
    await reconcile(deps);
    assert.equal(fake.mergeVersionAliasesRequests.length, merges, 'nothing written when in place');
  });

  it('moves live back to the old version at a rollback, and on no other', async () => {
    const result = await rollbackService(deps, { service: SERVICE });
    assert.equal(result.toRevision, 'r1');
    assert.deepEqual(fake.aliasesOf(MODEL), { default: '1', live: '1' });
  });

  it('keeps a rollback whose alias move failed, and the reconciler moves the alias', async () => {
    fake.failNext('MergeVersionAliases', grpc.status.UNAVAILABLE);
    const result = await rollbackService(deps, { service: SERVICE, toRevision: 'r2' });
    assert.equal(result.targetRun?.status, 'live');
    assert.deepEqual(fake.aliasesOf(MODEL), { default: '1', live: '1' }, 'the move failed');
    assert.ok(
      logger.lines.some((line) => /live alias was not moved/.test(line.message)),
      'the failure is told',
    );
    await reconcile(deps);
    assert.deepEqual(fake.aliasesOf(MODEL), { default: '2', live: '2' });
  });

  it('moves live to the version of a run verify promotes', async () => {
    const model = path.join(dir, 'model');
    fs.mkdirSync(path.join(model, 'ann'), { recursive: true });
    fs.writeFileSync(path.join(model, 'ann', 'manifest.json'), '{}');
    const { run } = await store.createRun(
      sampleIdentity({
        trainingRunId: 'train-3',
        runNumber: 3,
        artifactUri: pathToFileURL(model).href,
      }),
    );
    for (const [step, patch] of [
      ['register', registeredAs(3)],
      ['deploy', deployedTo(SERVICE, 'r3')],
    ] as const) {
      await store.claimStep({ runId: run.runId, step, owner: 'w', leaseMs: 60_000 });
      await completeAsChain(store, { runId: run.runId, step, owner: 'w', patch });
    }
    const verifyDeps = {
      ...deps,
      artifacts: new LocalArtifactStore({ roots: [dir], logger }),
      verifier: {
        verify: () => Promise.resolve({ passed: true, verification: { checks: [] } }),
      },
      instanceId: 'serving-alias-test',
      registry,
    };
    const message = buildModelDeployedV1({
      run_id: run.runId,
      service: SERVICE,
      revision: 'r3',
      tag_url: 'https://r3---recs-home.example.run.app',
      runtime: 'ann-serving',
      deployed_at: new Date().toISOString(),
    });
    await handleModelDeployed(verifyDeps, messagePublished(message, { id: 'md-3' }));
    assert.equal((await store.getRun(run.runId))?.status, 'live');
    assert.deepEqual(fake.aliasesOf(MODEL), { default: '3', live: '3' });
  });

  it('moves live to the version of a canary once it is promoted', async () => {
    const canary = await walkRun(store, {
      trainingRunId: 'train-4',
      runNumber: 4,
      service: SERVICE,
      revision: 'r4',
      verified: false,
      startMs: 4000,
    });
    await platform.splitTraffic(SERVICE, [
      { revision: 'r4', percent: 10 },
      { revision: 'r3', percent: 90 },
    ]);
    await startAsCanary(store, {
      runId: canary.runId,
      owner: 'verifier',
      service: SERVICE,
      modelEndpointId: canary.modelEndpointId,
      revision: 'r4',
      stableRevision: 'r3',
      now: new Date(),
    });
    assert.deepEqual(fake.aliasesOf(MODEL), { default: '3', live: '3' }, 'the stable run serves');
    await requestCanary(deps, { runId: canary.runId, action: 'promote', requestedBy: 'test' });
    assert.equal((await advanceCanary(deps, canary.runId))?.status, 'live');
    assert.deepEqual(fake.aliasesOf(MODEL), { default: '4', live: '4' });
  });
});
