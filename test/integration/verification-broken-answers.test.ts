/**
 * verifyRevision against node:http fakes of TF Serving that answer, but
 * wrongly on purpose (ids, scores, signature, latency, recall): exactly the
 * check that should fail fails, with the measured value in its detail.
 */
import assert from 'node:assert/strict';
import { SeededRandom } from '@recdeploy/shared/ann';
import { TINY_EXAMPLES } from '../support/ann/tiny-bundle.js';
import { brokenRevisions } from '../support/verification/broken-revisions.js';
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
    const requests = revisions.fake!.requests;
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
    const bodies = revisions.fake!.predictBodies();
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
      // Budgets far from both delays: an instant answer took 80 ms on a loaded CI machine.
      { predictDelayMs: (call) => (call % 2 === 0 ? 600 : 0) },
      { thresholds: { ...thresholds, latencyP50BudgetMs: 300, latencyP99BudgetMs: 300 } },
    );
    assert.deepEqual(failedNames(outcome), ['latency']);
    const { latencyP50Ms, latencyP99Ms } = outcome.verification;
    assert.ok(latencyP50Ms !== undefined && latencyP50Ms < 300, `p50 ${latencyP50Ms}`);
    assert.ok(latencyP99Ms !== undefined && latencyP99Ms >= 600, `p99 ${latencyP99Ms}`);
    assert.equal(
      check(outcome, 'latency').detail,
      `p99 exceeds its budget: p50 ${latencyP50Ms} ms (budget 300 ms), p99 ${latencyP99Ms} ms ` +
        '(budget 300 ms) over 10 sequential single-instance predicts after 3 warm-ups',
    );
  });

  it('fails ann_recall when ids are valid but random (smoke cannot see it)', async () => {
    const random = new SeededRandom(5);
    const outcome = await verifyAgainst(
      {
        rank: () => ({
          product_ids: random.shuffle([...revisions.bundle.productIds]).slice(0, 5),
          scores: [0.5, 0.4, 0.3, 0.2, 0.1],
        }),
      },
      { runtime: 'ann-serving', mode: 'ann' },
    );
    assert.deepEqual(names(outcome), [...ANN_SERVING_CHECKS, 'ann_recall']);
    // The revisions.fake is TF Serving: it sends no X-Recdeploy-Fingerprint, so that check fails too.
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
    const recallBodies = revisions.fake!.predictBodies().slice(-2);
    assert.deepEqual(
      recallBodies.map((b) => b.instances.length),
      [32, 8],
    );
    assert.deepEqual(recallBodies[0]!.instances.slice(0, 2), TINY_EXAMPLES);
  });

  it('fails smoke_predictions with how to add examples when the bundle has none', async () => {
    const outcome = await verifyAgainst({}, { bundle: { ...revisions.bundle, examples: [] } });
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
});
