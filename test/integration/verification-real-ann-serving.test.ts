/**
 * verifyRevision over real HTTP against the real ann-serving process (ann and
 * exact mode, real sample bundle): every check passes with measured numbers.
 * Its failures against misbehaving fakes are in verification-broken-answers
 * and verification-availability.
 */
import assert from 'node:assert/strict';
import { readBundle, type ModelBundle } from '@recdeploy/shared/ann';
import { RecordingLogger } from '../../shared/logging/recording-logger.js';
import {
  DEFAULT_VERIFICATION_THRESHOLDS,
  verifyRevision,
  type VerificationRequest,
  type VerificationThresholds,
} from '../../shared/verification/index.js';
import { sampleBundle } from '../support/ann-serving/sample-bundle.js';
import { startServer, type ServerProcess } from '../support/ann-serving/server-process.js';
import {
  ALL_CHECKS,
  ANN_SERVING_CHECKS,
  check,
  failedNames,
  names,
} from '../support/verification/outcome-checks.js';

describe('verifyRevision against the real ann-serving server', function () {
  this.timeout(300_000);
  let bundle: ModelBundle;
  let annServer: ServerProcess;
  let exactServer: ServerProcess;
  const thresholds: VerificationThresholds = {
    ...DEFAULT_VERIFICATION_THRESHOLDS,
    latencySamples: 20,
  };

  before(async () => {
    const sample = await sampleBundle();
    bundle = await readBundle(sample.dir);
    // Not waiting for /health: model_available has to wait for AVAILABLE itself.
    [annServer, exactServer] = await Promise.all([
      startServer({ MODEL_PATH: sample.dir, SERVING_MODE: 'ann' }),
      startServer({ MODEL_PATH: sample.dir, SERVING_MODE: 'exact' }),
    ]);
  });

  after(async () => {
    await Promise.all([annServer?.stop(), exactServer?.stop()]);
  });

  const request = (baseUrl: string, extra: Partial<VerificationRequest>): VerificationRequest => ({
    baseUrl,
    modelName: 'recommender',
    bundle,
    runtime: 'ann-serving',
    thresholds,
    logger: new RecordingLogger(),
    ...extra,
  });

  it('passes every check in ann mode, with latency and recall measured', async () => {
    const logger = new RecordingLogger();
    const outcome = await verifyRevision(request(annServer.baseUrl, { mode: 'ann', logger }));
    assert.deepEqual(names(outcome), [...ANN_SERVING_CHECKS, 'ann_recall']);
    assert.deepEqual(failedNames(outcome), [], JSON.stringify(outcome.verification.checks));
    assert.equal(outcome.passed, true);
    const { latencyP50Ms, latencyP99Ms, recallAtK } = outcome.verification;
    assert.ok(latencyP50Ms !== undefined && latencyP99Ms !== undefined);
    assert.ok(latencyP50Ms > 0 && latencyP50Ms <= latencyP99Ms && latencyP99Ms < 1000);
    assert.equal(recallAtK?.k, 100, 'default_k of the 300-product sample bundle');
    assert.ok(recallAtK.recall >= 0.9 && recallAtK.recall <= 1, `recall ${recallAtK.recall}`);

    assert.match(
      check(outcome, 'model_available').detail,
      /^version 1 AVAILABLE at http:\/\/127\.0\.0\.1:\d+\/v1\/models\/recommender/,
    );
    assert.equal(
      check(outcome, 'metadata_inputs').detail,
      `serving_default takes exactly the manifest's ${bundle.manifest.inputs.length} inputs: ` +
        bundle.manifest.inputs
          .map(
            (i) =>
              `${i.name} ${{ string: 'DT_STRING', int64: 'DT_INT64', float32: 'DT_FLOAT' }[i.dtype]}`,
          )
          .join(', '),
    );
    assert.match(
      check(outcome, 'smoke_predictions').detail,
      new RegExp(
        `^${bundle.examples.length} example instances: 100 results each, ids from product_ids\\.json`,
      ),
    );
    assert.ok(
      check(outcome, 'latency').detail.startsWith(
        `p50 ${latencyP50Ms} ms (budget 200 ms), p99 ${latencyP99Ms} ms (budget 1000 ms) over 20 sequential`,
      ),
      check(outcome, 'latency').detail,
    );
    assert.ok(
      check(outcome, 'ann_recall').detail.startsWith(
        `recall@100 ${recallAtK.recall} against exact search (minRecall 0.9) over 100 queries ` +
          `(${bundle.examples.length} examples + ${100 - bundle.examples.length} sampled, seed 2024)`,
      ),
      check(outcome, 'ann_recall').detail,
    );
    const summary = logger.lines.find((line) => line.message === 'revision verified');
    assert.deepEqual(summary?.meta.failed, []);
    assert.equal(logger.lines.filter((line) => line.message === 'verification check').length, 6);
  });

  it('passes every check in exact mode (no recall check: nothing approximates)', async () => {
    const outcome = await verifyRevision(request(exactServer.baseUrl, { mode: 'exact' }));
    assert.deepEqual(names(outcome), ANN_SERVING_CHECKS);
    assert.deepEqual(failedNames(outcome), [], JSON.stringify(outcome.verification.checks));
    assert.equal(outcome.verification.recallAtK, undefined);
    assert.ok((outcome.verification.latencyP99Ms ?? 0) > 0);
  });

  it('verifies the exact-mode server as the local stand-in for native TF Serving', async () => {
    const outcome = await verifyRevision(request(exactServer.baseUrl, { runtime: 'tf-serving' }));
    assert.deepEqual(names(outcome), ALL_CHECKS);
    assert.equal(outcome.passed, true, JSON.stringify(outcome.verification.checks));
  });
});
