/**
 * The registry's `live` alias follows what serves (shared/usecases/serving-alias.ts):
 * the Vertex adapter over real gRPC to the Vertex fake (which enforces the
 * alias rules), a real SQLite run store, the platform in memory. A rollback
 * moves `live` (and `default`) back to the old version; the reconciler's pass
 * puts it on the serving record's live run, and converges a move that failed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { RecordingLogger } from '@recdeploy/shared';
import {
  loadChainConfig,
  reconcile,
  rollbackService,
  type ReconcileDeps,
} from '@recdeploy/shared/chain';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { VertexModelRegistry } from '../../../shared/adapters/gcp/vertex-model-registry.js';
import { walkRun } from '../../fixtures/canary-runs.js';
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

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-alias-'));
    store = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
    fake = new VertexFake({ project: 'p', location: 'l' });
    fake.seedModel(
      [{ labels: { training_run_id: 'train-a' } }, { labels: { training_run_id: 'train-b' } }],
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
    const platform = new MemoryPlatform();
    platform.addService(SERVICE, 'r1', ['r2']);
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
});
