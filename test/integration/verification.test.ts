/**
 * verifyRevision over real HTTP: against the real ann-serving process (ann
 * and exact mode, real sample bundle) every check passes with measured
 * numbers; against node:http fakes that misbehave on purpose, exactly the
 * check that should fail fails, with the measured value in its detail.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readBundle, SeededRandom, type ModelBundle } from '@recdeploy/shared/ann';
import { RecordingLogger } from '../../shared/logging/recording-logger.js';
import { createRevisionVerifier } from '../../shared/verification/revision-verifier.js';
import {
  DEFAULT_VERIFICATION_THRESHOLDS,
  verifyRevision,
  type VerificationOutcome,
  type VerificationRequest,
  type VerificationThresholds,
} from '../../shared/verification/index.js';
import { TINY_EXAMPLES, writeTinyBundle } from '../support/ann/tiny-bundle.js';
import { sampleBundle } from '../support/ann-serving/sample-bundle.js';
import { startServer, type ServerProcess } from '../support/ann-serving/server-process.js';
import {
  startFakeTfServing,
  type FakeTfServing,
  type FakeTfServingOptions,
  type RankedAnswer,
} from '../support/verification/fake-tf-serving.js';

const ALL_CHECKS = ['model_available', 'metadata_inputs', 'smoke_predictions', 'latency'];
/** ann-serving's answers name the run and bundle they come from: one check more (not TF Serving). */
const ANN_SERVING_CHECKS = [...ALL_CHECKS.slice(0, 3), 'fingerprint', 'latency'];

function check(outcome: VerificationOutcome, name: string) {
  const found = outcome.verification.checks.find((c) => c.name === name);
  assert.ok(found, `no check ${name} in ${JSON.stringify(outcome.verification.checks)}`);
  return { passed: found.passed, detail: found.detail ?? '' };
}

function names(outcome: VerificationOutcome): string[] {
  return outcome.verification.checks.map((c) => c.name);
}

function failedNames(outcome: VerificationOutcome): string[] {
  return outcome.verification.checks.filter((c) => !c.passed).map((c) => c.name);
}

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

describe('verifyRevision against broken revisions (node:http fakes)', function () {
  this.timeout(120_000);
  let dir: string;
  let bundle: ModelBundle;
  let fake: FakeTfServing | undefined;
  const thresholds: VerificationThresholds = {
    ...DEFAULT_VERIFICATION_THRESHOLDS,
    readyTimeoutMs: 2000,
    requestTimeoutMs: 2000,
    latencySamples: 10,
    recallQueries: 40,
  };
  /** The first five ids, best first: a well-formed answer (tiny bundle: default_k 5, N 20). */
  const good = (): RankedAnswer => ({
    product_ids: bundle.productIds.slice(0, 5),
    scores: [0.9, 0.8, 0.7, 0.7, -0.2],
  });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'verification-'));
    await writeTinyBundle(dir);
    bundle = await readBundle(dir);
    assert.equal(bundle.manifest.default_k, 5);
    assert.deepEqual(bundle.productIds.slice(0, 2), [1001, 1002]);
  });

  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function verifyAgainst(
    options: Omit<FakeTfServingOptions, 'manifest'>,
    extra: Partial<VerificationRequest> = {},
  ): Promise<VerificationOutcome> {
    fake = await startFakeTfServing({ manifest: bundle.manifest, rank: good, ...options });
    return verifyRevision({
      baseUrl: fake.baseUrl,
      modelName: 'recommender',
      bundle,
      runtime: 'tf-serving',
      thresholds,
      logger: new RecordingLogger(),
      ...extra,
    });
  }

  it('passes a well-behaved revision, sending what a TF Serving client sends', async () => {
    let tokens = 0;
    const outcome = await verifyAgainst(
      {},
      { headers: () => Promise.resolve({ authorization: `Bearer token-${++tokens}` }) },
    );
    assert.deepEqual(names(outcome), ALL_CHECKS);
    assert.equal(outcome.passed, true, JSON.stringify(outcome.verification.checks));
    assert.equal(
      check(outcome, 'smoke_predictions').detail,
      '2 example instances: 5 results each, ids from product_ids.json, finite non-increasing scores (top score 0.9)',
    );
    const requests = fake!.requests;
    assert.deepEqual(
      requests.slice(0, 3).map((r) => `${r.method} ${r.url}`),
      [
        'GET /v1/models/recommender',
        'GET /v1/models/recommender/metadata',
        'POST /v1/models/recommender:predict',
      ],
    );
    assert.equal(
      requests.length,
      2 + 1 + 3 + 10,
      'status, metadata, smoke, 3 warm-ups, 10 samples',
    );
    // Every request carries a fresh header from the provider.
    assert.deepEqual(
      requests.map((r) => r.headers.authorization),
      requests.map((_, i) => `Bearer token-${i + 1}`),
    );
    // ...and the marker that keeps verification out of ann-serving's replay sample.
    assert.ok(requests.every((r) => r.headers['x-recdeploy-verification'] === '1'));
    assert.equal(requests[2]!.headers['content-type'], 'application/json');
    const bodies = fake!.predictBodies();
    assert.deepEqual(bodies[0], { instances: TINY_EXAMPLES }, 'smoke: every example, one request');
    assert.deepEqual(
      bodies.slice(1).map((b) => b.instances),
      Array.from({ length: 13 }, (_, i) => [TINY_EXAMPLES[i % 2]]),
      'warm-ups and samples: one instance each, cycling through the examples',
    );
  });

  it('fails smoke_predictions when ids are row indices, and says so', async () => {
    const outcome = await verifyAgainst({
      rank: () => ({ product_ids: [4, 0, 17, 3, 9], scores: [0.9, 0.8, 0.7, 0.6, 0.5] }),
    });
    assert.equal(outcome.passed, false);
    assert.deepEqual(failedNames(outcome), ['smoke_predictions']);
    assert.equal(
      check(outcome, 'smoke_predictions').detail,
      '2 of 2 example instances fail: instance 0: product ids look like row or vocabulary indices, ' +
        'not original product ids: all are integers in [0, 20) (4, 0, 17, …) and 5 are not in ' +
        'product_ids.json, whose ids look like 1001, 1002, 1003; the server must map result rows ' +
        'through product_ids.json; instance 1: product ids look like row or vocabulary indices, ' +
        'not original product ids: all are integers in [0, 20) (4, 0, 17, …) and 5 are not in ' +
        'product_ids.json, whose ids look like 1001, 1002, 1003; the server must map result rows ' +
        'through product_ids.json',
    );
  });

  it('fails smoke_predictions on unsorted scores, naming the position and values', async () => {
    const outcome = await verifyAgainst({
      rank: () => ({ ...good(), scores: [0.5, 0.9, 0.4, 0.3, 0.2] }),
    });
    assert.deepEqual(failedNames(outcome), ['smoke_predictions']);
    assert.match(
      check(outcome, 'smoke_predictions').detail,
      /^2 of 2 example instances fail: instance 0: scores increase at position 1: 0\.9 after 0\.5; instance 1:/,
    );
  });

  it('fails smoke_predictions on k-1 results', async () => {
    const outcome = await verifyAgainst({
      rank: () => ({
        product_ids: good().product_ids.slice(0, 4),
        scores: good().scores.slice(0, 4),
      }),
    });
    assert.deepEqual(failedNames(outcome), ['smoke_predictions']);
    assert.equal(
      check(outcome, 'smoke_predictions').detail,
      '2 of 2 example instances fail: instance 0: expected 5 product_ids, got 4; ' +
        'instance 0: expected 5 scores, got 4; instance 1: expected 5 product_ids, got 4 (+1 more)',
    );
  });

  it('fails smoke_predictions on bare NaN scores (TF Serving’s non-finite tokens)', async () => {
    const outcome = await verifyAgainst({
      predictBody: (instances) =>
        `{"predictions":[${instances
          .map(() => '{"product_ids":[1001,1002,1003,1004,1005],"scores":[NaN,NaN,NaN,NaN,NaN]}')
          .join(',')}]}`,
    });
    assert.deepEqual(failedNames(outcome), ['smoke_predictions']);
    assert.match(
      check(outcome, 'smoke_predictions').detail,
      /instance 0: score at position 0 is "NaN", not a finite number/,
    );
  });

  it('fails metadata_inputs when the signature lacks an input', async () => {
    const outcome = await verifyAgainst({
      inputs: { customer_id: 'DT_STRING', city: 'DT_STRING' },
    });
    assert.deepEqual(failedNames(outcome), ['metadata_inputs']);
    assert.equal(
      check(outcome, 'metadata_inputs').detail,
      'serving_default inputs differ from the manifest: missing input "revenue" (DT_FLOAT)',
    );
  });

  it('fails metadata_inputs on a hung metadata handler, and still runs the other checks', async () => {
    const outcome = await verifyAgainst(
      { hangMetadata: true },
      { thresholds: { ...thresholds, requestTimeoutMs: 300 } },
    );
    assert.deepEqual(failedNames(outcome), ['metadata_inputs']);
    assert.match(
      check(outcome, 'metadata_inputs').detail,
      /^GET http:\/\/127\.0\.0\.1:\d+\/v1\/models\/recommender\/metadata: GET \S+ no answer within 300 ms$/,
    );
    assert.ok(check(outcome, 'latency').passed);
  });

  it('fails latency when every second predict is slow (p99 over budget, p50 within)', async () => {
    const outcome = await verifyAgainst(
      { predictDelayMs: (call) => (call % 2 === 0 ? 120 : 0) },
      { thresholds: { ...thresholds, latencyP50BudgetMs: 60, latencyP99BudgetMs: 60 } },
    );
    assert.deepEqual(failedNames(outcome), ['latency']);
    const { latencyP50Ms, latencyP99Ms } = outcome.verification;
    assert.ok(latencyP50Ms !== undefined && latencyP50Ms < 60, `p50 ${latencyP50Ms}`);
    assert.ok(latencyP99Ms !== undefined && latencyP99Ms >= 120, `p99 ${latencyP99Ms}`);
    assert.equal(
      check(outcome, 'latency').detail,
      `p99 exceeds its budget: p50 ${latencyP50Ms} ms (budget 60 ms), p99 ${latencyP99Ms} ms ` +
        '(budget 60 ms) over 10 sequential single-instance predicts after 3 warm-ups',
    );
  });

  it('fails ann_recall when ids are valid but random (smoke cannot see it)', async () => {
    const random = new SeededRandom(5);
    const outcome = await verifyAgainst(
      {
        rank: () => ({
          product_ids: random.shuffle([...bundle.productIds]).slice(0, 5),
          scores: [0.5, 0.4, 0.3, 0.2, 0.1],
        }),
      },
      { runtime: 'ann-serving', mode: 'ann' },
    );
    assert.deepEqual(names(outcome), [...ANN_SERVING_CHECKS, 'ann_recall']);
    // The fake is TF Serving: it sends no X-Recdeploy-Fingerprint, so that check fails too.
    assert.deepEqual(failedNames(outcome), ['fingerprint', 'ann_recall']);
    const recall = outcome.verification.recallAtK;
    assert.equal(recall?.k, 5);
    assert.ok(recall.recall < 0.6, `random ids over 20 products: recall ${recall.recall}`);
    assert.match(
      check(outcome, 'ann_recall').detail,
      new RegExp(
        `^too low: recall@5 ${recall.recall} against exact search \\(minRecall 0\\.9\\) over 40 queries ` +
          `\\(2 examples \\+ 38 sampled, seed 2024\\); lowest \\d(\\.\\d+)? at query \\d+$`,
      ),
    );
    // Recall queries go in chunks of 32, the examples first.
    const recallBodies = fake!.predictBodies().slice(-2);
    assert.deepEqual(
      recallBodies.map((b) => b.instances.length),
      [32, 8],
    );
    assert.deepEqual(recallBodies[0]!.instances.slice(0, 2), TINY_EXAMPLES);
  });

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
    const statusPolls = fake!.requests.filter((r) => r.url === '/v1/models/recommender').length;
    assert.ok(statusPolls >= 3, `polled ${statusPolls} times`);
    assert.equal(fake!.requests.length, statusPolls, 'nothing but status requests');
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

  it('fails model_available for an unreachable revision, naming the connection error', async () => {
    fake = await startFakeTfServing({ manifest: bundle.manifest, rank: good });
    const baseUrl = fake.baseUrl;
    await fake.close();
    fake = undefined;
    const outcome = await verifyRevision({
      baseUrl,
      modelName: 'recommender',
      bundle,
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

  it('fails smoke_predictions with how to add examples when the bundle has none', async () => {
    const outcome = await verifyAgainst({}, { bundle: { ...bundle, examples: [] } });
    assert.deepEqual(failedNames(outcome), ['smoke_predictions', 'latency']);
    assert.equal(
      check(outcome, 'smoke_predictions').detail,
      'the bundle has no example instances, so nothing can be predicted: add ann/examples.json ' +
        'next to manifest.json, a JSON array of a few instances exactly as a client sends them, ' +
        'each an object with the inputs customer_id (string), city (string), revenue (float32)',
    );
    assert.equal(
      check(outcome, 'latency').detail,
      'not run: the bundle has no example instances (see smoke_predictions)',
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
      assert.equal(fake!.requests.length, 0);
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

describe('createRevisionVerifier (the verify step’s RevisionVerifier)', function () {
  this.timeout(60_000);
  let dir: string;
  let bundleDir: string;
  let fake: FakeTfServing;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'revision-verifier-'));
    bundleDir = await writeTinyBundle(dir);
    const bundle = await readBundle(bundleDir);
    fake = await startFakeTfServing({
      manifest: bundle.manifest,
      rank: () => ({ product_ids: bundle.productIds.slice(0, 5), scores: [5, 4, 3, 2, 1] }),
    });
  });

  after(async () => {
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the bundle directory, applies the settings and binds headers to the tag URL', async () => {
    const urls: string[] = [];
    const verifier = createRevisionVerifier({
      settings: { latencySamples: 4, readyTimeoutMs: 1000 },
      logger: new RecordingLogger(),
      headers: (url) => {
        urls.push(url);
        return Promise.resolve({ authorization: 'Bearer t' });
      },
    });
    const before = fake.requests.length;
    const outcome = await verifier.verify({
      tagUrl: fake.baseUrl,
      modelName: 'recommender',
      bundleDir,
      runtime: 'tf-serving',
      retrievalAlgorithm: 'brute_force',
    });
    assert.deepEqual(names(outcome), ALL_CHECKS);
    assert.equal(outcome.passed, true, JSON.stringify(outcome.verification.checks));
    assert.match(check(outcome, 'latency').detail, / over 4 sequential /);
    assert.equal(fake.requests.length - before, 2 + 1 + 3 + 4);
    assert.deepEqual(new Set(urls), new Set([fake.baseUrl]));
  });

  it('fails every check, and says how to add examples, when examples.json is missing', async () => {
    const copy = path.join(dir, 'no-examples');
    await cp(bundleDir, copy, { recursive: true });
    await rm(path.join(copy, 'examples.json'));
    const verifier = createRevisionVerifier({ settings: {}, logger: new RecordingLogger() });
    const outcome = await verifier.verify({
      tagUrl: fake.baseUrl,
      modelName: 'recommender',
      bundleDir: copy,
      runtime: 'ann-serving',
      retrievalAlgorithm: 'hnsw',
    });
    assert.deepEqual(names(outcome), [...ANN_SERVING_CHECKS, 'ann_recall']);
    assert.deepEqual(failedNames(outcome), [...ANN_SERVING_CHECKS, 'ann_recall']);
    const examplesFile = path.join(copy, 'examples.json');
    assert.equal(
      check(outcome, 'smoke_predictions').detail,
      `${examplesFile}: cannot be read (missing?): add ann/examples.json next to manifest.json, ` +
        "a JSON array of a few instances exactly as a client sends them, each an object with the manifest's inputs",
    );
    assert.equal(
      check(outcome, 'model_available').detail,
      `not run: the bundle cannot be read: ${examplesFile}: cannot be read (missing?)`,
    );
  });

  it('refuses invalid settings when it is created (cold start), listing them', () => {
    assert.throws(
      () =>
        createRevisionVerifier({
          settings: { minRecall: 2, latencySamples: 0 },
          logger: new RecordingLogger(),
        }),
      (error: Error & { code?: string; problems?: string[] }) => {
        assert.equal(error.code, 'CONFIG.INVALID');
        assert.deepEqual(error.problems, [
          'verification threshold latencySamples must be a positive integer, got 0',
          'verification threshold minRecall must be in [0, 1], got 2',
        ]);
        return true;
      },
    );
  });
});
