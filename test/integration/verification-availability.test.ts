/**
 * verifyRevision against node:http fakes of TF Serving whose model never
 * becomes available (loading for ever, failed to load, unreachable): that
 * check fails and every other one is not run. And when the verifier itself
 * cannot work (headers, 403, aborted), it throws instead of failing the model.
 */
import assert from 'node:assert/strict';
import { RecordingLogger } from '../../shared/logging/recording-logger.js';
import { verifyRevision } from '../../shared/verification/index.js';
import { brokenRevisions } from '../support/verification/broken-revisions.js';
import { startFakeTfServing } from '../support/verification/fake-tf-serving.js';
import {
  ALL_CHECKS,
  ANN_SERVING_CHECKS,
  check,
  failedNames,
  names,
} from '../support/verification/outcome-checks.js';

describe('verifyRevision against broken revisions (node:http fakes)', function () {
  this.timeout(120_000);
  const revisions = brokenRevisions();
  const { thresholds, good, verifyAgainst } = revisions;

  it('fails model_available for a model LOADING for ever; every other check is "not run"', async () => {
    const outcome = await verifyAgainst(
      { state: 'LOADING' },
      { runtime: 'ann-serving', thresholds: { ...thresholds, readyTimeoutMs: 500 } },
    );
    assert.deepEqual(names(outcome), [...ANN_SERVING_CHECKS, 'ann_recall']);
    assert.equal(outcome.passed, false);
    assert.match(
      check(outcome, 'model_available').detail,
      /^http:\/\/127\.0\.0\.1:\d+\/v1\/models\/recommender not AVAILABLE after \d+ ms \(\d+ status requests, readyTimeoutMs 500\); last answer: version 1 state LOADING$/,
    );
    for (const name of [...ANN_SERVING_CHECKS.slice(1), 'ann_recall']) {
      assert.deepEqual(check(outcome, name), {
        passed: false,
        detail: 'not run: model not available',
      });
    }
    const statusPolls = revisions.fake!.requests.filter(
      (r) => r.url === '/v1/models/recommender',
    ).length;
    assert.ok(statusPolls >= 3, `polled ${statusPolls} times`);
    assert.equal(revisions.fake!.requests.length, statusPolls, 'nothing but status requests');
    assert.equal(outcome.verification.latencyP50Ms, undefined);
  });

  it('stops waiting when the model failed to load (state END with an error)', async () => {
    const outcome = await verifyAgainst(
      { state: 'END', stateError: 'Could not read ann/candidates.f32' },
      { thresholds: { ...thresholds, readyTimeoutMs: 60_000 } },
    );
    assert.deepEqual(failedNames(outcome), ALL_CHECKS);
    assert.match(
      check(outcome, 'model_available').detail,
      /^\S+ failed to load after \d+ ms \(1 status request, readyTimeoutMs 60000\); last answer: version 1 state END \(Could not read ann\/candidates\.f32\)$/,
    );
  });

  it('fails the revision, without throwing, when its checks outlast their time budget', async () => {
    // Every predict takes 400 ms: the smoke predictions pass, the latency
    // samples cannot all be taken within the 1.5 s budget.
    const outcome = await verifyAgainst(
      { state: 'AVAILABLE', rank: () => good(), predictDelayMs: () => 400 },
      { thresholds: { ...thresholds, readyTimeoutMs: 1000, checksTimeoutMs: 1500 } },
    );
    assert.equal(outcome.passed, false);
    assert.deepEqual(names(outcome), ALL_CHECKS);
    assert.equal(check(outcome, 'model_available').passed, true);
    const why = "the checks' time budget of 1.5 s (VERIFY_CHECKS_TIMEOUT_MS) ran out";
    const unfinished = outcome.verification.checks.filter((c) => !c.passed);
    assert.ok(unfinished.length >= 1, 'at least the latency check is cut short');
    assert.deepEqual(
      unfinished.map((c) => c.detail),
      unfinished.map((_, i) => `${i === 0 ? 'stopped' : 'not run'}: ${why}`),
    );
    assert.equal(check(outcome, 'latency').passed, false);
  });

  it('fails model_available for an unreachable revision, naming the connection error', async () => {
    revisions.fake = await startFakeTfServing({ manifest: revisions.bundle.manifest, rank: good });
    const baseUrl = revisions.fake.baseUrl;
    await revisions.fake.close();
    revisions.fake = undefined;
    const outcome = await verifyRevision({
      baseUrl,
      modelName: 'recommender',
      bundle: revisions.bundle,
      runtime: 'tf-serving',
      thresholds: { ...thresholds, readyTimeoutMs: 300 },
      logger: new RecordingLogger(),
    });
    assert.deepEqual(failedNames(outcome), ALL_CHECKS);
    assert.match(
      check(outcome, 'model_available').detail,
      /last answer: GET \S+ connect ECONNREFUSED 127\.0\.0\.1:\d+$/,
    );
  });

  describe('when the verifier itself cannot work, it throws instead of failing the model', () => {
    it('the header provider fails → TransientError DEPENDENCY.UNAVAILABLE', async () => {
      await assert.rejects(
        verifyAgainst(
          {},
          { headers: () => Promise.reject(new Error('metadata server unreachable')) },
        ),
        (error: Error & { code?: string; retryable?: boolean }) => {
          assert.equal(error.code, 'DEPENDENCY.UNAVAILABLE');
          assert.equal(error.retryable, true);
          assert.match(
            error.message,
            /^cannot get request headers \(e\.g\. an ID token\) to call http:\/\/127\.0\.0\.1:\d+\/v1\/models\/recommender: metadata server unreachable$/,
          );
          return true;
        },
      );
      assert.equal(revisions.fake!.requests.length, 0);
    });

    it('the platform answers 403 → TransientError naming roles/run.invoker', async () => {
      await assert.rejects(
        verifyAgainst({ forceStatus: 403 }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'DEPENDENCY.UNAVAILABLE');
          assert.match(error.message, /^GET \S+ answered HTTP 403: the verifier is not allowed/);
          assert.match(error.message, /roles\/run\.invoker/);
          return true;
        },
      );
    });

    it('the caller aborts → TransientError, even while waiting for AVAILABLE', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('shutting down')), 150);
      await assert.rejects(
        verifyAgainst({ state: 'LOADING' }, { signal: controller.signal }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'DEPENDENCY.UNAVAILABLE');
          assert.match(
            error.message,
            /^verification of http:\/\/127\.0\.0\.1:\d+ was aborted: shutting down$/,
          );
          return true;
        },
      );
    });
  });
});
