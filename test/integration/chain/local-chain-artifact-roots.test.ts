/**
 * The deployment chain, in every mode this machine can run (see
 * local-chain.test.ts), given a run whose artifact is outside the artifact roots: the run fails,
 * the same run republished with a corrected artifact is refused with the
 * retry command to use, the operator's retry takes it live, and an unreadable
 * message is recorded as rejected.
 */
import assert from 'node:assert/strict';
import { RecordingLogger } from '@recdeploy/shared';
import { retryRun } from '@recdeploy/shared/chain';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import { describeInChainModes, stopStartedChains } from '../../support/chain/chain-modes.js';
import type { ChainUnderTest } from '../../support/chain/chain-under-test.js';
import { runIdOf } from '../../support/chain/convergence.js';
import { localChain, trainingCompleted } from '../../support/chain/local-chain.js';
import { ENDED } from '../../support/chain/local-chain-probes.js';

describeInChainModes((mode) => {
  let chain: ChainUnderTest;
  let sample: SampleBundle;

  before(async () => {
    [chain, sample] = await Promise.all([mode.chain(), sampleBundleWithoutIndex()]);
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
    await chain.waitUntilDelivered();
    const said = (await chain.runs.listRejectedEvents(100)).find((e) => e.eventId === republished);
    assert.equal(said?.code, 'EVENT.RUN_EXISTS');
    assert.match(
      said?.reason ?? '',
      new RegExp(`recdeploy retry ${run.runId} --artifact-uri ${fixed.replace(/[/.]/g, '\\$&')}`),
    );
    assert.equal((await chain.runs.getRun(run.runId))?.status, 'failed', 'nothing changed');
    // ...and the operator's retry with that artifact takes the run live.
    const operator = {
      config: chain.config,
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
    await chain.publish('training-completed', { schema_version: '1', training_run_id: 'x' });
    await chain.waitUntilDelivered();
    const rejected = await chain.runs.listRejectedEvents(100);
    assert.equal(rejected.length, before + 1);
    assert.equal(rejected[0]?.code, 'EVENT.INVALID');
    assert.match(rejected[0]?.reason ?? '', /model_endpoint_id/);
    // Nothing dead-lettered (the local bus keeps dead letters; the emulator's subscriptions have no dead-letter topic).
    if (chain.mode === 'local') {
      assert.equal((await localChain()).bus.listDeadLetters().length, 0);
    }
  });
});

after(stopStartedChains);
