/**
 * The deploy step (shared/usecases/deploy-run.ts) under the operator's
 * deployment policy, on a real SQLite run store and a real artifact directory,
 * with the platform in memory (its contract is the one both real adapters
 * are tested for) recording every revision asked for. A run beyond the
 * policy ends failed with the reasons recorded and announced, and no
 * revision is made (a retry after the operator widens the policy deploys it
 * as asked); a run at every limit deploys with what it asked for.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildModelRegisteredV1, type DeploymentFinishedV1 } from '@recdeploy/events';
import {
  RecordingLogger,
  type DeployedRevision,
  type DeploymentConfig,
  type RevisionSpec,
} from '@recdeploy/shared';
import {
  handleModelRegistered,
  loadChainConfig,
  retryRun,
  type DeployDeps,
} from '@recdeploy/shared/chain';
import { LocalArtifactStore, SqliteRunStore } from '@recdeploy/shared/local';
import { messagePublished } from '../../fixtures/events/deliveries.js';
import { completeAsChain, registeredAs, sampleIdentity } from '../../fixtures/runs.js';
import { MemoryPlatform } from '../../support/chain/memory-platform.js';
import { RecordingBus } from '../cli/rollback-bench.js';

/** The memory platform, remembering every revision it was asked to deploy. */
class RecordingDeployPlatform extends MemoryPlatform {
  readonly specs: RevisionSpec[] = [];
  override deployRevision(spec: RevisionSpec): Promise<DeployedRevision> {
    this.specs.push(spec);
    return super.deployRevision(spec);
  }
}

/** Index work must not happen here: the runs are served by TF Serving (no ANN index). */
const unexpected = (what: string) => () => Promise.reject(new Error(`unexpected ${what}`));

describe('deploy step under the deployment policy', function () {
  this.timeout(30_000);
  let dir: string;
  let store: SqliteRunStore;
  let platform: RecordingDeployPlatform;
  let bus: RecordingBus;
  let deps: DeployDeps;
  let bundleUri: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-deploy-policy-'));
    const bundle = path.join(dir, 'artifacts', 'pushed_model', '1');
    fs.mkdirSync(bundle, { recursive: true });
    fs.writeFileSync(path.join(bundle, 'saved_model.pb'), 'a SavedModel');
    bundleUri = pathToFileURL(bundle).href;
    store = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
    platform = new RecordingDeployPlatform();
    bus = new RecordingBus();
    const logger = new RecordingLogger();
    deps = {
      // The default policy, as a chain configured with nothing gets it.
      config: loadChainConfig({ RECDEPLOY_DATA_DIR: dir }),
      logger,
      runStore: store,
      eventBus: bus,
      platform,
      artifacts: new LocalArtifactStore({ roots: [path.join(dir, 'artifacts')], logger }),
      indexBuilds: {
        start: unexpected('index build'),
        status: unexpected('index build'),
        close: () => Promise.resolve(),
      },
      indexes: {
        status: unexpected('index status'),
        estimateBuildSeconds: unexpected('index estimate'),
        buildInline: unexpected('index build'),
      },
      instanceId: 'deploy-policy-test',
    };
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A registered brute-force run asking for `deploymentConfig`, then its model-registered delivered. */
  async function deploy(trainingRunId: string, deploymentConfig: DeploymentConfig) {
    const created = await store.createRun(
      sampleIdentity({
        trainingRunId,
        retrievalAlgorithm: 'brute_force',
        artifactUri: bundleUri,
        deploymentConfig,
      }),
    );
    const runId = created.run.runId;
    await store.claimStep({ runId, step: 'register', owner: 'registrar', leaseMs: 60_000 });
    await completeAsChain(store, {
      runId,
      step: 'register',
      owner: 'registrar',
      patch: registeredAs(1),
    });
    const registry = registeredAs(1).registry!;
    const message = buildModelRegisteredV1({ run_id: runId, registry });
    await handleModelRegistered(deps, messagePublished(message, { id: `mr-${trainingRunId}` }));
    const run = await store.getRun(runId);
    assert.ok(run, runId);
    const announced = bus.published
      .filter((p) => p.topic === deps.config.runtime.topics.deploymentFinished)
      .map((p) => p.message.data as DeploymentFinishedV1)
      .filter((m) => m.run_id === runId);
    return { run, announced };
  }

  it('refuses a public run with 1,000 instances: failed, reasons recorded and announced, no revision', async () => {
    const { run, announced } = await deploy('train-greedy', {
      public: true,
      maxInstances: 1000,
      memory: '32Gi',
    });
    assert.equal(run.status, 'failed');
    assert.equal(run.steps.deploy.status, 'failed');
    assert.equal(run.steps.deploy.error?.code, 'DEPLOY.OUTSIDE_POLICY');
    const reasons = [
      'deployment_config.public is true, but this chain does not allow public services (DEPLOY_ALLOW_PUBLIC=false)',
      "deployment_config.max_instances is 1000, above this chain's limit of 20 (DEPLOY_MAX_INSTANCES_LIMIT=20)",
      "deployment_config.memory is 32Gi, above this chain's limit of 8Gi (DEPLOY_MEMORY_LIMIT=8Gi)",
    ];
    for (const reason of reasons) {
      assert.ok(run.statusReason?.includes(reason), `${reason}\n  not in\n${run.statusReason}`);
      assert.ok(run.steps.deploy.error?.message.includes(reason), reason);
    }
    assert.deepEqual(platform.specs, [], 'no revision was asked for');
    assert.equal(run.serving, undefined);
    assert.equal(announced.length, 1, 'deployment-finished announced once');
    assert.equal(announced[0]?.outcome, 'failed');
    for (const reason of reasons) assert.ok(announced[0]?.reason?.includes(reason), reason);
    // The service is free again for the next run.
    const lease = await store.acquireServiceLease({
      service: 'rec-recs-home',
      runId: 'someone-else',
      ttlMs: 1_000,
    });
    assert.equal(lease.acquired, true, 'the refused run let go of the service');
  });

  it('deploys the refused run as asked once the operator widens the policy and retries it', async () => {
    const asked: DeploymentConfig = { public: true, maxInstances: 1000 };
    const { run: refused } = await deploy('train-wide', asked);
    assert.equal(refused.status, 'failed');
    deps = {
      ...deps,
      config: loadChainConfig({
        RECDEPLOY_DATA_DIR: dir,
        DEPLOY_ALLOW_PUBLIC: 'true',
        DEPLOY_MAX_INSTANCES_LIMIT: '1000',
      }),
    };
    const retried = await retryRun(deps, { runId: refused.runId, requestedBy: 'operator' });
    assert.equal(retried.step, 'deploy');
    const handOff = bus.published.at(-1);
    assert.equal(handOff?.topic, 'model-registered');
    await handleModelRegistered(deps, messagePublished(handOff?.message.data, { id: 'retry-1' }));
    const run = await store.getRun(refused.runId);
    assert.equal(run?.status, 'deployed', run?.statusReason);
    assert.equal(platform.specs.length, 1);
    assert.equal(platform.specs[0]?.public, true);
    assert.equal(platform.specs[0]?.resources.maxInstances, 1000);
  });

  it('deploys a run at every limit with exactly what it asked for (private)', async () => {
    const { run, announced } = await deploy('train-at-limits', {
      public: false,
      memory: '8Gi',
      cpu: '4000m',
      minInstances: 3,
      maxInstances: 20,
      timeoutS: 300,
      concurrency: 250,
    });
    assert.equal(run.status, 'deployed', run.statusReason);
    assert.equal(platform.specs.length, 1);
    const spec = platform.specs[0]!;
    assert.deepEqual(spec.resources, {
      memory: '8Gi',
      cpu: '4000m',
      minInstances: 3,
      maxInstances: 20,
      timeoutS: 300,
      concurrency: 250,
    });
    assert.equal(spec.public, false);
    assert.equal(run.serving?.revision, spec.revision);
    assert.deepEqual(announced, [], 'nothing is announced before verify');
    assert.deepEqual(
      bus.published.map((p) => p.topic),
      ['model-deployed'],
    );
  });
});
