import assert from 'node:assert/strict';
import { RecdeployError } from '@recdeploy/shared';
import { chooseRuntime, type BundleFacts } from '../../../shared/domain/routing-policy.js';
import { sampleIdentity } from '../../fixtures/runs.js';

const BOTH: BundleFacts = { hasSavedModel: true, hasAnnBundle: true };
const SAVED_ONLY: BundleFacts = { hasSavedModel: true, hasAnnBundle: false };
const ANN_ONLY: BundleFacts = { hasSavedModel: false, hasAnnBundle: true };
const NOTHING: BundleFacts = { hasSavedModel: false, hasAnnBundle: false };

function refusal(fn: () => unknown): RecdeployError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RecdeployError);
    return error;
  }
  assert.fail('expected ROUTING.NO_RUNTIME');
}

describe('routing policy', () => {
  it('sends brute_force retrieval, ranking and multitask to native TF Serving', () => {
    for (const run of [
      sampleIdentity({ retrievalAlgorithm: 'brute_force' }),
      sampleIdentity({ modelType: 'ranking', retrievalAlgorithm: 'brute_force' }),
      sampleIdentity({ modelType: 'multitask', retrievalAlgorithm: 'scann' }),
    ]) {
      const choice = chooseRuntime(run, BOTH);
      assert.equal(choice.runtime, 'tf-serving', run.modelType);
      assert.equal(choice.mode, undefined);
      assert.match(choice.reason, /TensorFlow Serving/);
    }
  });

  it('sends scann and hnsw retrieval to ann-serving with an HNSW index', () => {
    for (const algorithm of ['scann', 'hnsw'] as const) {
      const choice = chooseRuntime(sampleIdentity({ retrievalAlgorithm: algorithm }), BOTH);
      assert.deepEqual(
        { runtime: choice.runtime, mode: choice.mode },
        { runtime: 'ann-serving', mode: 'ann' },
      );
      assert.match(choice.reason, new RegExp(`^${algorithm} retrieval`));
    }
  });

  it('serves a brute_force bundle without a SavedModel with ann-serving in exact mode', () => {
    const choice = chooseRuntime(sampleIdentity({ retrievalAlgorithm: 'brute_force' }), ANN_ONLY);
    assert.deepEqual(
      { runtime: choice.runtime, mode: choice.mode },
      { runtime: 'ann-serving', mode: 'exact' },
    );
    assert.match(choice.reason, /without a SavedModel/);
  });

  it('lets an explicit deployment_config.runtime win, and says so', () => {
    const run = sampleIdentity({
      retrievalAlgorithm: 'brute_force',
      deploymentConfig: { runtime: 'ann-serving' },
    });
    const choice = chooseRuntime(run, BOTH);
    assert.deepEqual(
      { runtime: choice.runtime, mode: choice.mode },
      { runtime: 'ann-serving', mode: 'ann' },
    );
    assert.equal(choice.reason, 'deployment_config.runtime asks for ann-serving');
    const exact = chooseRuntime(
      sampleIdentity({ deploymentConfig: { runtime: 'ann-serving-exact' } }),
      ANN_ONLY,
    );
    assert.equal(exact.mode, 'exact');
    const native = chooseRuntime(
      sampleIdentity({ deploymentConfig: { runtime: 'tf-serving' } }),
      SAVED_ONLY,
    );
    assert.equal(native.runtime, 'tf-serving');
  });

  it('refuses what the bundle cannot serve, naming what is missing', () => {
    const cases: [Parameters<typeof chooseRuntime>[0], BundleFacts, RegExp][] = [
      [sampleIdentity({ retrievalAlgorithm: 'hnsw' }), SAVED_ONLY, /needs the ann\/ bundle/],
      [sampleIdentity({ modelType: 'ranking' }), ANN_ONLY, /ranking model needs saved_model\.pb/],
      [sampleIdentity({ retrievalAlgorithm: 'brute_force' }), NOTHING, /needs saved_model\.pb/],
      [
        sampleIdentity({ deploymentConfig: { runtime: 'tf-serving' } }),
        ANN_ONLY,
        /no saved_model\.pb/,
      ],
      [
        sampleIdentity({ deploymentConfig: { runtime: 'triton' } }),
        BOTH,
        /"triton" is not a known runtime \(known: .*tf-serving/,
      ],
    ];
    for (const [run, facts, message] of cases) {
      const error = refusal(() => chooseRuntime(run, facts));
      assert.equal(error.code, 'ROUTING.NO_RUNTIME');
      assert.equal(error.retryable, false);
      assert.match(error.message, message);
    }
  });
});
