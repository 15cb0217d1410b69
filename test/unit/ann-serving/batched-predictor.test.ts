import assert from 'node:assert/strict';
import { BatchedPredictor } from '../../../services/ann-serving/src/batching/batched-predictor.js';
import type { BatchingOptions } from '../../../services/ann-serving/src/batching/micro-batcher.js';
import type { PreparedRequest } from '../../../services/ann-serving/src/model/serving-model.js';
import type { Prediction } from '../../../services/ann-serving/src/protocol/predict-response.js';
import { FakeServingModel } from '../../support/ann-serving/fake-serving-model.js';

/** The fake model, recording the k and the instance count of every predict call; calls with a gated k wait for release(). */
class RecordingModel extends FakeServingModel {
  readonly searches: { k: number; instances: number }[] = [];
  private readonly gates = new Map<number, Promise<void>>();
  private readonly releases = new Map<number, () => void>();

  gate(k: number): void {
    this.gates.set(k, new Promise((resolve) => this.releases.set(k, resolve)));
  }

  release(k: number): void {
    this.releases.get(k)?.();
  }

  override async predict(requests: readonly PreparedRequest[], k: number): Promise<Prediction[]> {
    const instances = requests.reduce((sum, request) => sum + request.count, 0);
    this.searches.push({ k, instances });
    await this.gates.get(k);
    return super.predict(requests, k);
  }
}

const options: BatchingOptions = { maxBatchSize: 16, timeoutMicros: 0, maxEnqueuedBatches: 2 };

/** Lets promise callbacks and a few event-loop turns run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A request of one instance per revenue (the fake's scores are revenue / rank). */
function request(model: FakeServingModel, ...revenues: number[]): PreparedRequest {
  return model.prepare(revenues.map((revenue) => ({ customer_id: `c${revenue}`, revenue })));
}

describe('ann-serving batched predictor: k per request', () => {
  it('searches a batch of mixed k once per k, smallest first, each request getting exactly its own k', async () => {
    const model = new RecordingModel();
    const sizes: number[] = [];
    const predictor = new BatchedPredictor(model, options, (size) => sizes.push(size));
    const answers = await Promise.all([
      predictor.predict(request(model, 10), 5),
      predictor.predict(request(model, 20, 30), 2),
      predictor.predict(request(model, 40), 1),
      predictor.predict(request(model, 50), 2),
    ]);
    assert.deepEqual(sizes, [5], 'one micro-batch of all five instances');
    assert.deepEqual(model.searches, [
      { k: 1, instances: 1 },
      { k: 2, instances: 3 },
      { k: 5, instances: 1 },
    ]);
    assert.deepEqual(
      answers.map((predictions) => predictions.map((p) => p.productIds.length)),
      [[5], [2, 2], [1], [2]],
    );
    assert.deepEqual(
      answers.map((predictions) => predictions.map((p) => p.scores[0])),
      [[10], [20, 30], [40], [50]],
      'every instance keeps its own predictions across the split',
    );
  });

  it('answers the small-k requests of a batch before the large-k group finishes', async () => {
    const model = new RecordingModel();
    model.gate(5);
    const predictor = new BatchedPredictor(model, options);
    let largeDone = false;
    let smallAnswer: Prediction[] | undefined;
    const large = predictor.predict(request(model, 1), 5).then((answer) => {
      largeDone = true;
      return answer;
    });
    void predictor.predict(request(model, 2), 1).then((answer) => (smallAnswer = answer));
    await settle();
    assert.equal(smallAnswer?.[0]?.productIds.length, 1, 'the k = 1 request is answered');
    assert.equal(largeDone, false, 'while the k = 5 search is still held by the test');
    assert.deepEqual(
      model.searches.map((search) => search.k),
      [1, 5],
    );
    model.release(5);
    assert.equal((await large)[0]?.productIds.length, 5);
  });

  it('a failing group fails its own requests; groups answered before it keep their answers', async () => {
    const model = new RecordingModel();
    model.gate(5);
    const predictor = new BatchedPredictor(model, options);
    const large = predictor.predict(request(model, 1), 5);
    const small = predictor.predict(request(model, 2), 2);
    assert.equal((await small)[0]?.productIds.length, 2);
    model.failWith = new Error('search worker died');
    model.release(5);
    await assert.rejects(large, /search worker died/);
    model.failWith = undefined;
    const after = await predictor.predict(request(model, 3), 3);
    assert.equal(after[0]?.productIds.length, 3, 'the next batch runs normally');
  });
});
