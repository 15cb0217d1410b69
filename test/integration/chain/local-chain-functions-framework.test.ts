/**
 * The chain's functions through the functions-framework, posted to directly
 * with structured and binary CloudEvents (the chain on the embedded adapters,
 * see local-chain.test.ts): what each answers (204 acknowledged, 500 retry
 * later) and what it records.
 */
import assert from 'node:assert/strict';
import { runKey } from '@recdeploy/shared';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import { runIdOf } from '../../support/chain/convergence.js';
import { localChain, trainingCompleted, type LocalChain } from '../../support/chain/local-chain.js';
import { ENDED } from '../../support/chain/local-chain-probes.js';
import {
  binaryDelivery,
  messagePublished,
  structuredDelivery,
  type HttpDelivery,
} from '../../fixtures/events/deliveries.js';

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

after(async () => (await localChain()).stop());
