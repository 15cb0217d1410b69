/**
 * The deployment chain end to end (issue 4), in every mode this machine can
 * run (chain-modes.ts): on the embedded adapters, and on the cloud adapters
 * against emulators and simulators (issue 12, the rehearsal):
 * sample model → training-completed → registered → deployed at 0% → verified
 * → live, answering predictions through the service router. Then: redelivered
 * events change nothing; a newer run replaces it; a bundle that fails
 * verification leaves the live revision serving; an older run is skipped as
 * superseded; two endpoints deploy side by side. (An artifact outside the
 * roots: local-chain-artifact-roots.test.ts; the functions' HTTP deliveries:
 * local-chain-functions-framework.test.ts.)
 */
import assert from 'node:assert/strict';
import type { RunDocument } from '@recdeploy/shared';
import { otherRunWithSourceIndex } from '../../support/ann/other-run-index.js';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import { describeInChainModes, stopStartedChains } from '../../support/chain/chain-modes.js';
import type { ChainUnderTest } from '../../support/chain/chain-under-test.js';
import { runIdOf } from '../../support/chain/convergence.js';
import { trainingCompleted } from '../../support/chain/local-chain.js';
import { ENDED, brokenIndexBundle, predictVia } from '../../support/chain/local-chain-probes.js';

describeInChainModes((mode) => {
  let chain: ChainUnderTest;
  let sample: SampleBundle;
  let live: RunDocument;

  before(async () => {
    [chain, sample] = await Promise.all([mode.chain(), sampleBundleWithoutIndex()]);
  });

  it('takes a sample model from training-completed to a live revision answering through the router', async () => {
    const uri = await chain.addBundle(sample.dir, 'home-run-1');
    await chain.publishTrainingCompleted(trainingCompleted(uri));
    const run = await chain.waitForRun(runIdOf('recs-home', 'train-001'), ENDED);
    assert.equal(run.status, 'live', run.statusReason);
    // The scenarios below build on this run, whatever the checks below find.
    live = run;

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
    assert.equal((await chain.modelVersions(run.registry.model)).length, 1);
    // Routed to ann-serving; the index was built at deploy time and stored next to the bundle.
    assert.equal(run.serving?.runtime, 'ann-serving');
    assert.equal(run.serving?.mode, 'ann');
    assert.match(run.serving?.runtimeReason ?? '', /^hnsw retrieval/);
    const index = JSON.parse(await chain.readArtifact(uri, 'ann/index/index.json')) as {
      count: number;
    };
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
    const answer = await predictVia(chain, run.serving.url!, sample.examples);
    assert.equal(answer.status, 200);
    assert.equal(answer.revision, run.serving?.revision);
    const known = new Set<unknown>(sample.productIds);
    assert.equal(answer.predictions.length, sample.examples.length);
    for (const prediction of answer.predictions) {
      assert.equal(prediction.product_ids.length, sample.manifest.default_k);
      assert.ok(prediction.product_ids.every((id) => known.has(id)));
    }
  });

  it('does nothing twice when every event of the run is delivered again', async () => {
    const runId = live.runId;
    const before = await chain.runs.getRun(runId);
    // The same training-completed, and both hand-offs, as redeliveries would bring them.
    await chain.publishTrainingCompleted(trainingCompleted(live.artifactUri));
    await chain.publish('model-registered', {
      schema_version: '1',
      run_id: runId,
      registry: live.registry,
    });
    await chain.publish('model-deployed', {
      schema_version: '1',
      run_id: runId,
      service: live.serving!.service,
      revision: live.serving!.revision,
      tag_url: live.serving!.tagUrl,
      runtime: live.serving!.runtime,
    });
    await chain.waitUntilDelivered();
    assert.deepEqual(await chain.runs.getRun(runId), before);
    assert.equal((await chain.modelVersions(live.registry!.model)).length, 1);
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
    const answer = await predictVia(chain, run.serving!.url!, sample.examples);
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
    const answer = await predictVia(chain, live.serving!.url!, sample.examples);
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
    const answer = await predictVia(chain, live.serving!.url!, sample.examples);
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
      const answer = await predictVia(chain, run.serving!.url!, sample.examples.slice(0, 1));
      assert.equal(answer.status, 200);
      assert.equal(answer.revision, run.serving?.revision);
    }
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
    const answer = await predictVia(chain, live.serving!.url!, sample.examples);
    assert.equal(answer.status, 200);
    assert.equal(answer.revision, live.serving?.revision);
    // ...and passes its fingerprint headers through: the run and bundle verify checked.
    const expected = live.verification?.fingerprint;
    assert.equal(expected?.trainingRunId, live.trainingRunId);
    const routed = await fetch(`${live.serving!.url!}/v1/models/recommender:predict`, {
      method: 'POST',
      headers: await chain.callerHeaders(live.serving!.url!),
      body: JSON.stringify({ instances: sample.examples.slice(0, 1) }),
    });
    assert.equal(routed.headers.get('x-recdeploy-run-id'), live.trainingRunId);
    assert.equal(routed.headers.get('x-recdeploy-fingerprint'), expected?.id);
  });
});

after(stopStartedChains);
