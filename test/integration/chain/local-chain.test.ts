/**
 * The deployment chain end to end on the embedded adapters (issue 4):
 * sample model → training-completed → registered → deployed at 0% → verified
 * → live, answering predictions through the service router. Then: redelivered
 * events change nothing; a newer run replaces it; a bundle that fails
 * verification leaves the live revision serving; an older run is skipped as
 * superseded; two endpoints deploy side by side.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger, runKey, type RunDocument } from '@recdeploy/shared';
import { loadChainConfig, retryRun } from '@recdeploy/shared/chain';
import { writeBrokenIndex } from '../../support/ann/broken-index.js';
import { otherRunWithSourceIndex } from '../../support/ann/other-run-index.js';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import { localChain, trainingCompleted, type LocalChain } from '../../support/chain/local-chain.js';
import {
  binaryDelivery,
  messagePublished,
  structuredDelivery,
  type HttpDelivery,
} from '../../fixtures/events/deliveries.js';

interface Prediction {
  product_ids: unknown[];
  scores: number[];
}

const ENDED = ['live', 'failed', 'skipped'] as const;

async function predict(
  url: string,
  instances: readonly unknown[],
): Promise<{ status: number; revision: string | null; predictions: Prediction[] }> {
  const response = await fetch(`${url}/v1/models/recommender:predict`, {
    method: 'POST',
    body: JSON.stringify({ instances }),
  });
  const body = (await response.json()) as { predictions?: Prediction[] };
  return {
    status: response.status,
    revision: response.headers.get('x-recdeploy-revision'),
    predictions: body.predictions ?? [],
  };
}

function runIdOf(endpoint: string, trainingRun: string): string {
  return runKey({ modelEndpointId: endpoint, trainingRunId: trainingRun });
}

describe('deployment chain on the embedded adapters (functions-framework, local bus, child processes)', function () {
  this.timeout(240_000);
  let chain: LocalChain;
  let sample: SampleBundle;
  let live: RunDocument;

  before(async () => {
    [chain, sample] = await Promise.all([localChain(), sampleBundleWithoutIndex()]);
  });

  it('takes a sample model from training-completed to a live revision answering through the router', async () => {
    const uri = await chain.addBundle(sample.dir, 'home-run-1');
    await chain.publishTrainingCompleted(trainingCompleted(uri));
    const run = await chain.waitForRun(runIdOf('recs-home', 'train-001'), ENDED);
    assert.equal(run.status, 'live', run.statusReason);

    // Every step recorded, in order, with timings.
    for (const step of ['register', 'deploy', 'verify'] as const) {
      assert.equal(run.steps[step].status, 'succeeded', step);
      assert.equal(run.steps[step].attempts, 1, step);
      assert.ok(run.steps[step].startedAt! <= run.steps[step].endedAt!, step);
    }
    assert.deepEqual(
      run.history.filter((h) => h.from !== h.to).map((h) => h.to),
      ['received', 'registering', 'registered', 'deploying', 'deployed', 'verifying', 'live'],
    );
    // Registered as version 1 of the endpoint's model.
    assert.equal(run.registry?.version, '1');
    assert.equal((await chain.registry.listVersions(run.registry.model)).length, 1);
    // Routed to ann-serving; the index was built at deploy time and stored next to the bundle.
    assert.equal(run.serving?.runtime, 'ann-serving');
    assert.equal(run.serving?.mode, 'ann');
    assert.match(run.serving?.runtimeReason ?? '', /^hnsw retrieval/);
    const index = JSON.parse(
      await readFile(path.join(chain.artifactsDir, 'home-run-1/ann/index/index.json'), 'utf8'),
    ) as { count: number };
    assert.equal(index.count, sample.productIds.length);
    // Verified: every check passed, with measurements.
    const checks = run.verification?.checks ?? [];
    assert.deepEqual(checks.map((c) => c.name).sort(), [
      'ann_recall',
      'fingerprint',
      'latency',
      'metadata_inputs',
      'model_available',
      'replay',
      'smoke_predictions',
    ]);
    assert.ok(
      checks.every((c) => c.passed || c.name === 'replay'),
      JSON.stringify(checks),
    );
    // Sampling is off by default (instances can hold customer data): replay is skipped, not passed.
    assert.deepEqual(
      checks.find((c) => c.name === 'replay'),
      {
        name: 'replay',
        passed: false,
        skipped: true,
        detail:
          'not run: live queries are not sampled for endpoint recs-home (REPLAY_SAMPLE_SIZE is 0, the default: instances can hold customer data)',
      },
    );
    assert.ok((run.verification?.recallAtK?.recall ?? 0) >= 0.9);
    assert.ok(run.verification?.latencyP99Ms !== undefined);

    // The service URL (the router) answers with original product ids from the live revision.
    const answer = await predict(run.serving.url!, sample.examples);
    assert.equal(answer.status, 200);
    assert.equal(answer.revision, run.serving?.revision);
    const known = new Set<unknown>(sample.productIds);
    assert.equal(answer.predictions.length, sample.examples.length);
    for (const prediction of answer.predictions) {
      assert.equal(prediction.product_ids.length, sample.manifest.default_k);
      assert.ok(prediction.product_ids.every((id) => known.has(id)));
    }
    live = run;
  });

  it('does nothing twice when every event of the run is delivered again', async () => {
    const runId = live.runId;
    const before = await chain.runs.getRun(runId);
    // The same training-completed, and both hand-offs, as redeliveries would bring them.
    await chain.publishTrainingCompleted(trainingCompleted(live.artifactUri));
    await chain.bus.publish('model-registered', {
      data: { schema_version: '1', run_id: runId, registry: live.registry },
    });
    await chain.bus.publish('model-deployed', {
      data: {
        schema_version: '1',
        run_id: runId,
        service: live.serving!.service,
        revision: live.serving!.revision,
        tag_url: live.serving!.tagUrl,
        runtime: live.serving!.runtime,
      },
    });
    await waitUntilDelivered(chain);
    assert.deepEqual(await chain.runs.getRun(runId), before);
    assert.equal((await chain.registry.listVersions(live.registry!.model)).length, 1);
  });

  it('replaces the live revision with a newer run of the same endpoint', async () => {
    const uri = await chain.addBundle(sample.dir, 'home-run-2');
    await chain.publishTrainingCompleted(
      trainingCompleted(uri, { training_run_id: 'train-002', run_number: 2 }),
    );
    const run = await chain.waitForRun(runIdOf('recs-home', 'train-002'), ENDED);
    assert.equal(run.status, 'live', run.statusReason);
    assert.equal(run.registry?.model, live.registry?.model);
    assert.equal(run.registry?.version, '2');
    assert.equal(run.serving?.service, live.serving?.service);
    assert.notEqual(run.serving?.revision, live.serving?.revision);
    assert.equal(run.serving?.url, live.serving?.url, 'the service URL stays the same');
    const answer = await predict(run.serving!.url!, sample.examples);
    assert.equal(answer.revision, run.serving?.revision);
    const previous = await chain.runs.getRun(live.runId);
    assert.equal(previous?.status, 'replaced', 'the run that lost the traffic says so');
    assert.equal(previous?.replacedBy, run.runId);
    const record = await chain.runs.getServingRecord(run.serving!.service);
    assert.equal(record?.liveRunId, run.runId);
    assert.equal(record?.liveRevision, run.serving?.revision);
    assert.equal(record?.previous?.runId, live.runId);
    assert.deepEqual(
      (await chain.runs.listRuns({ status: 'live', modelEndpointId: 'recs-home' })).map(
        (r) => r.runId,
      ),
      [run.runId],
    );
    live = run;
  });

  it('leaves the live revision serving when a bundle fails verification (broken index)', async () => {
    const uri = await chain.addBundle(await brokenIndexBundle(sample), 'home-run-3-broken');
    await chain.publishTrainingCompleted(
      trainingCompleted(uri, { training_run_id: 'train-003', run_number: 3 }),
    );
    const run = await chain.waitForRun(runIdOf('recs-home', 'train-003'), ENDED);
    assert.equal(run.status, 'failed');
    assert.equal(run.steps.verify.status, 'failed');
    assert.equal(run.steps.verify.error?.code, 'VERIFY.FAILED');
    const recall = run.verification?.checks.find((c) => c.name === 'ann_recall');
    assert.equal(recall?.passed, false, JSON.stringify(run.verification));
    assert.match(run.statusReason ?? '', /ann_recall/);
    // Traffic never moved: the router still answers from the live revision.
    const answer = await predict(live.serving!.url!, sample.examples);
    assert.equal(answer.status, 200);
    assert.equal(answer.revision, live.serving?.revision);
  });

  it('skips an older run once a newer one of the endpoint has been live (superseded)', async () => {
    const uri = await chain.addBundle(sample.dir, 'home-run-0');
    await chain.publishTrainingCompleted(
      trainingCompleted(uri, { training_run_id: 'train-000', run_number: 0 }),
    );
    const run = await chain.waitForRun(runIdOf('recs-home', 'train-000'), ENDED);
    assert.equal(run.status, 'skipped');
    assert.equal(run.steps.deploy.status, 'skipped');
    assert.match(run.statusReason ?? '', /RUN\.SUPERSEDED/);
    const answer = await predict(live.serving!.url!, sample.examples);
    assert.equal(answer.revision, live.serving?.revision);
  });

  it('registers an unblessed run but skips its deployment (the default blessing policy)', async () => {
    const uri = await chain.addBundle(sample.dir, 'home-run-4-unblessed');
    await chain.publishTrainingCompleted(
      trainingCompleted(uri, { training_run_id: 'train-004', run_number: 4, is_blessed: false }),
    );
    const run = await chain.waitForRun(runIdOf('recs-home', 'train-004'), ENDED);
    assert.equal(run.status, 'skipped');
    assert.equal(run.steps.register.status, 'succeeded');
    assert.equal(run.steps.deploy.attempts, 0);
    // Versions 1–4: runs 1, 2, 3 (broken) and 0 (superseded at deploy, registered before).
    assert.equal(run.registry?.version, '5');
    assert.match(run.statusReason ?? '', /not blessed/);
  });

  it('deploys two endpoints side by side, each behind its own router', async () => {
    const [a, b] = await Promise.all([
      chain.addBundle(sample.dir, 'search-run-1'),
      chain.addBundle(sample.dir, 'email-run-1'),
    ]);
    await Promise.all([
      chain.publishTrainingCompleted(
        trainingCompleted(a, {
          model_endpoint_id: 'recs-search',
          retrieval_algorithm: 'brute_force',
        }),
      ),
      chain.publishTrainingCompleted(trainingCompleted(b, { model_endpoint_id: 'recs-email' })),
    ]);
    const [search, email] = await Promise.all([
      chain.waitForRun(runIdOf('recs-search', 'train-001'), ENDED),
      chain.waitForRun(runIdOf('recs-email', 'train-001'), ENDED),
    ]);
    assert.equal(search.status, 'live', search.statusReason);
    assert.equal(email.status, 'live', email.statusReason);
    // brute_force without a SavedModel: ann-serving in exact mode, and the run says why.
    assert.equal(search.serving?.mode, 'exact');
    assert.match(search.serving?.runtimeReason ?? '', /without a SavedModel/);
    assert.equal(
      search.verification?.checks.some((c) => c.name === 'ann_recall'),
      false,
    );
    assert.notEqual(search.serving?.url, email.serving?.url);
    for (const run of [search, email, live]) {
      const answer = await predict(run.serving!.url!, sample.examples.slice(0, 1));
      assert.equal(answer.status, 200);
      assert.equal(answer.revision, run.serving?.revision);
    }
  });

  it('fails a run whose artifact is outside the roots, and records unreadable messages', async () => {
    await chain.publishTrainingCompleted(
      trainingCompleted('file:///etc/recdeploy-outside', { model_endpoint_id: 'recs-bad' }),
    );
    const run = await chain.waitForRun(runIdOf('recs-bad', 'train-001'), ENDED);
    assert.equal(run.status, 'failed');
    assert.equal(run.steps.register.error?.code, 'ARTIFACT.FORBIDDEN');

    // The same run again with a corrected artifact: not silently dropped...
    const fixed = await chain.addBundle(sample.dir, 'bad-fixed');
    const republished = await chain.publishTrainingCompleted(
      trainingCompleted(fixed, { model_endpoint_id: 'recs-bad' }),
    );
    await waitUntilDelivered(chain);
    const said = (await chain.runs.listRejectedEvents(100)).find((e) => e.eventId === republished);
    assert.equal(said?.code, 'EVENT.RUN_EXISTS');
    assert.match(
      said?.reason ?? '',
      new RegExp(`recdeploy retry ${run.runId} --artifact-uri ${fixed.replace(/[/.]/g, '\\$&')}`),
    );
    assert.equal((await chain.runs.getRun(run.runId))?.status, 'failed', 'nothing changed');
    // ...and the operator's retry with that artifact takes the run live.
    const operator = {
      config: loadChainConfig(process.env),
      logger: new RecordingLogger(),
      runStore: chain.runs,
      eventBus: chain.bus,
    };
    const retried = await retryRun(operator, {
      runId: run.runId,
      requestedBy: 'the test',
      artifactUri: fixed,
    });
    assert.equal(retried.step, 'register');
    const live2 = await chain.waitForRun(run.runId, ['live', 'failed', 'skipped']);
    assert.equal(live2.status, 'live', live2.statusReason);
    assert.equal(live2.artifactUri, fixed);
    assert.equal(live2.steps.register.attempts, 2, 'a new attempt of the same run');

    const before = (await chain.runs.listRejectedEvents(100)).length;
    await chain.bus.publish('training-completed', {
      data: { schema_version: '1', training_run_id: 'x' },
    });
    await waitUntilDelivered(chain);
    const rejected = await chain.runs.listRejectedEvents(100);
    assert.equal(rejected.length, before + 1);
    assert.equal(rejected[0]?.code, 'EVENT.INVALID');
    assert.match(rejected[0]?.reason ?? '', /model_endpoint_id/);
    assert.equal(chain.bus.listDeadLetters().length, 0);
  });

  it("fails a run whose bundle carries an index built from another run's embeddings, naming both runs", async () => {
    // An index built from the sample's embeddings (the runs before), pushed with run 6's own.
    const foreign = await otherRunWithSourceIndex(sample.dir, 'train-006');
    const uri = await chain.addBundle(foreign, 'home-run-6-foreign-index');
    await chain.publishTrainingCompleted(
      trainingCompleted(uri, { training_run_id: 'train-006', run_number: 6 }),
    );
    const run = await chain.waitForRun(runIdOf('recs-home', 'train-006'), ENDED);
    assert.equal(run.status, 'failed');
    // The deploy step kept the stored index (same count and dim): the server refused it.
    assert.equal(run.steps.deploy.status, 'failed', JSON.stringify(run.steps));
    const sampleRun = sample.manifest.fingerprint?.training_run_id;
    assert.match(
      run.statusReason ?? '',
      new RegExp(
        `was built from the embeddings of training run ${sampleRun} \\(candidates sha256 [0-9a-f]{64}\\), ` +
          `but this bundle's are training run train-006's \\(sha256 [0-9a-f]{64}\\)`,
      ),
    );
    assert.equal(run.steps.deploy.error?.code, 'PLATFORM.REVISION_FAILED');
    // Traffic never moved: the router still answers from the live revision...
    const answer = await predict(live.serving!.url!, sample.examples);
    assert.equal(answer.status, 200);
    assert.equal(answer.revision, live.serving?.revision);
    // ...and passes its fingerprint headers through: the run and bundle verify checked.
    const expected = live.verification?.fingerprint;
    assert.equal(expected?.trainingRunId, live.trainingRunId);
    const routed = await fetch(`${live.serving!.url!}/v1/models/recommender:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: sample.examples.slice(0, 1) }),
    });
    assert.equal(routed.headers.get('x-recdeploy-run-id'), live.trainingRunId);
    assert.equal(routed.headers.get('x-recdeploy-fingerprint'), expected?.id);
  });
});

after(async () => (await localChain()).stop());

/** Waits until the bus has nothing pending (every delivery answered). */
async function waitUntilDelivered(chain: LocalChain): Promise<void> {
  const deadline = Date.now() + 30_000;
  // Give the delivery loop time to pick the new messages up first.
  await new Promise((resolve) => setTimeout(resolve, 300));
  while (chain.bus.stats().pending > 0) {
    if (Date.now() > deadline) {
      throw new Error(`bus still busy: ${JSON.stringify(chain.bus.stats())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The sample bundle with an index that loads (its index.json names these
 * candidates) but whose graph was built over the rows in reverse order: the
 * server answers confidently with the wrong products, which only the recall
 * check can notice.
 */
async function brokenIndexBundle(sample: SampleBundle): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'broken-index-'));
  process.once('exit', () => void rm(dir, { recursive: true, force: true }));
  await cp(sample.dir, dir, { recursive: true });
  await writeBrokenIndex(dir);
  return dir;
}

describe('the functions through the functions-framework (structured and binary CloudEvents)', function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let sample: SampleBundle;

  before(async () => {
    [chain, sample] = await Promise.all([localChain(), sampleBundleWithoutIndex()]);
  });

  async function post(url: string, delivery: HttpDelivery): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: delivery.headers as Record<string, string>,
      body: delivery.body,
    });
  }

  it('register: a binary-mode delivery creates and registers the run (204 = acknowledged)', async () => {
    const uri = await chain.addBundle(sample.dir, 'ff-binary');
    const message = trainingCompleted(uri, {
      model_endpoint_id: 'recs-ff',
      training_run_id: 'binary-1',
    });
    const response = await post(
      chain.functionUrls.register,
      binaryDelivery(messagePublished(message, { id: '7001' })),
    );
    assert.equal(response.status, 204);
    const run = await chain.runs.getRun(runIdOf('recs-ff', 'binary-1'));
    assert.equal(run?.steps.register.status, 'succeeded');
    assert.equal(run?.history[0]?.eventId, '7001');
    // The chain carries on from the hand-off it published.
    const ended = await chain.waitForRun(runIdOf('recs-ff', 'binary-1'), ENDED);
    assert.equal(ended.status, 'live', ended.statusReason);
  });

  it('register: a structured-mode delivery with bad base64 is acknowledged and recorded', async () => {
    const ce = messagePublished('ignored', { id: '7002', message: { data: '%%%not-base64' } });
    const response = await post(chain.functionUrls.register, structuredDelivery(ce));
    assert.equal(response.status, 204);
    const rejected = await chain.runs.listRejectedEvents(100);
    const record = rejected.find((r) => r.eventId === '7002');
    assert.equal(record?.code, 'EVENT.INVALID');
    assert.match(record?.reason ?? '', /base64/);
  });

  it('deploy: a hand-off for a run whose register step has not finished answers 500 (retry later)', async () => {
    const identity = {
      trainingRunId: 'early-1',
      modelEndpointId: 'recs-ff-early',
      modelSlug: 'two-tower',
      runNumber: 1,
      modelType: 'retrieval' as const,
      retrievalAlgorithm: 'hnsw' as const,
      artifactUri: 'file:///nowhere',
      isBlessed: true,
      metrics: {},
    };
    await chain.runs.createRun(identity);
    const runId = runKey(identity);
    const handOff = {
      schema_version: '1',
      run_id: runId,
      registry: { model: 'projects/local/locations/local/models/m-1', version: '1' },
    };
    const response = await post(
      chain.functionUrls.deploy,
      binaryDelivery(messagePublished(handOff, { id: '7003' })),
    );
    assert.equal(response.status, 500);
    const run = await chain.runs.getRun(runId);
    assert.equal(run?.status, 'received');
    assert.equal(run?.steps.deploy.attempts, 0);
  });

  it('verify: a hand-off for an unknown run is acknowledged and recorded, not retried', async () => {
    const handOff = {
      schema_version: '1',
      run_id: 'recs-nobody-run-9',
      service: 'rec-nobody',
      revision: 'rec-nobody-r9-00000000',
      tag_url: 'http://127.0.0.1:9/',
      runtime: 'ann-serving',
    };
    const response = await post(
      chain.functionUrls.verify,
      structuredDelivery(messagePublished(handOff, { id: '7004' })),
    );
    assert.equal(response.status, 204);
    const record = (await chain.runs.listRejectedEvents(100)).find((r) => r.eventId === '7004');
    assert.match(record?.reason ?? '', /unknown run recs-nobody-run-9/);
  });
});
