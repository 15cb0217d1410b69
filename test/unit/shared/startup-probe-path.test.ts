/**
 * The startup probe a revision gets decides when the platform sends it
 * traffic: for ann-serving it must be the path that answers 503 while the
 * model loads (the status path answers 200 with state LOADING then).
 */
import assert from 'node:assert/strict';
import { loadChainConfig, revisionSpecFor } from '@recdeploy/shared/chain';
import { sampleIdentity } from '../../fixtures/runs.js';

const run = { ...sampleIdentity(), runId: 'recs-home-train-001' };

describe('startup probe of a revision', () => {
  const config = loadChainConfig({ RECDEPLOY_DATA_DIR: '/tmp/rd' });

  it('probes ann-serving on /health, which waits for the model to be AVAILABLE', () => {
    const spec = revisionSpecFor(config, run, { runtime: 'ann-serving', mode: 'ann' } as never);
    assert.equal(spec.startupProbePath, '/health');
  });

  it('probes TF Serving on its model status path (its REST port opens once the model is loaded)', () => {
    const spec = revisionSpecFor(config, run, { runtime: 'tf-serving' } as never);
    assert.equal(spec.startupProbePath, `/v1/models/${config.modelName}`);
  });
});
