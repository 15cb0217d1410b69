import assert from 'node:assert/strict';
import { ConfigError } from '@recdeploy/shared';
import {
  DEFAULT_VERIFICATION_THRESHOLDS,
  assertValidThresholds,
  plannedChecks,
  thresholdProblems,
} from '../../../shared/verification/index.js';

describe('verification thresholds and plan', () => {
  it('has the documented defaults, and they are valid', () => {
    assert.deepEqual(DEFAULT_VERIFICATION_THRESHOLDS, {
      readyTimeoutMs: 60000,
      requestTimeoutMs: 10000,
      latencySamples: 50,
      latencyP50BudgetMs: 200,
      latencyP99BudgetMs: 1000,
      recallQueries: 100,
      minRecall: 0.9,
      checksTimeoutMs: 300000,
    });
    assert.deepEqual(thresholdProblems(DEFAULT_VERIFICATION_THRESHOLDS), []);
    assert.ok(Object.isFrozen(DEFAULT_VERIFICATION_THRESHOLDS));
  });

  it('lists every invalid threshold with its value', () => {
    const problems = thresholdProblems({
      ...DEFAULT_VERIFICATION_THRESHOLDS,
      latencySamples: 2.5,
      requestTimeoutMs: 0,
      minRecall: 1.2,
    });
    assert.deepEqual(problems, [
      'requestTimeoutMs must be a positive number, got 0',
      'latencySamples must be a positive integer, got 2.5',
      'minRecall must be in [0, 1], got 1.2',
    ]);
    assert.throws(
      () => assertValidThresholds({ ...DEFAULT_VERIFICATION_THRESHOLDS, recallQueries: -1 }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.code === 'CONFIG.INVALID' &&
        error.problems[0] ===
          'verification threshold recallQueries must be a positive integer, got -1',
    );
  });

  it('plans ann_recall only for ann-serving in ann mode (its default), fingerprint for ann-serving', () => {
    const base = ['model_available', 'metadata_inputs', 'smoke_predictions', 'latency'];
    // TF Serving sends no X-Recdeploy-Fingerprint: the check is ann-serving's, after smoke_predictions.
    const annServing = [...base.slice(0, 3), 'fingerprint', 'latency'];
    assert.deepEqual(plannedChecks({ runtime: 'ann-serving' }), [...annServing, 'ann_recall']);
    assert.deepEqual(plannedChecks({ runtime: 'ann-serving', mode: 'ann' }), [
      ...annServing,
      'ann_recall',
    ]);
    assert.deepEqual(plannedChecks({ runtime: 'ann-serving', mode: 'exact' }), annServing);
    assert.deepEqual(plannedChecks({ runtime: 'tf-serving', mode: 'ann' }), base);
  });
});
