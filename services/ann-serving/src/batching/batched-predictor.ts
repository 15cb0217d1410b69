/**
 * Predictions through the micro-batcher: each instance is one batch item,
 * so BATCH_MAX_SIZE counts instances, as TF Serving's max_batch_size does.
 * An item points at its request; a request's items are consecutive in a
 * batch, so the distinct requests, in order, are the batch.
 *
 * Requests in one batch may ask for different k. Searching the batch once
 * with the largest k made every request pay for it (hnswlib searches with
 * max(ef, k) candidates, and every instance answered k pairs before being
 * cut): with 1% of requests at k = 1000 the others kept only 0.73–0.75 of
 * their throughput (`npm run bench:cost`). Instead the batch is split into
 * one model call per distinct k, smallest k first (0.92–0.96 kept; the rest
 * is the k = 1000 requests' own work), and each request is answered as soon
 * as its own group is done: a request with the default k neither searches
 * with another's k nor waits for a larger group's search.
 */
import type { Prediction } from '../protocol/predict-response.js';
import type { PreparedRequest, ServingModel } from '../model/serving-model.js';
import { MicroBatcher, type BatchingOptions, type SubmitOptions } from './micro-batcher.js';

/** Per-request options (the client's abort signal, the arrival time), passed on to the micro-batcher. */
export type PredictOptions = SubmitOptions;

/** One request in the queue: every one of its instances' items points at it. */
interface Pending {
  readonly request: PreparedRequest;
  readonly k: number;
  /** Answers the request before the rest of its batch is done. */
  readonly answer: (predictions: Prediction[]) => void;
}

export class BatchedPredictor {
  private readonly batcher: MicroBatcher<Pending, Prediction>;

  constructor(model: ServingModel, options: BatchingOptions, onBatch?: (size: number) => void) {
    this.batcher = new MicroBatcher<Pending, Prediction>(
      options,
      (items) => predictByK(model, items),
      onBatch,
    );
  }

  /** Instances waiting for a batch. */
  get pendingInstances(): number {
    return this.batcher.pendingItems;
  }

  /**
   * The top `k` for every instance of `request`. Throws QueueFullError
   * (synchronously) when the queue cannot take the request.
   */
  predict(request: PreparedRequest, k: number, options?: PredictOptions): Promise<Prediction[]> {
    let answer!: (predictions: Prediction[]) => void;
    const answered = new Promise<Prediction[]>((resolve) => (answer = resolve));
    const pending: Pending = { request, k, answer };
    const items = Array.from({ length: request.count }, () => pending);
    // The batcher settles the request when its whole batch is done, or
    // rejects it (a failed batch, a client gone, waited too long); its own
    // group usually answers it earlier.
    const batched = this.batcher.submit(items, options);
    return Promise.race([answered, batched]);
  }
}

/**
 * Runs a batch as one model call per distinct k, smallest first, answering
 * each group's requests as soon as that group is done; returns the
 * predictions of all items, in order, for the batcher.
 */
async function predictByK(model: ServingModel, items: readonly Pending[]): Promise<Prediction[]> {
  const requests = items.filter((pending, i) => pending !== items[i - 1]);
  const groups = groupByK(requests);
  const answers = new Map<Pending, Prediction[]>();
  for (const [index, group] of groups.entries()) {
    if (index > 0) {
      // A search on the main thread is synchronous: without this turn, the
      // answers just given would be written only after the next group's search.
      await nextTurn();
    }
    const predictions = await model.predict(
      group.requests.map((pending) => pending.request),
      group.k,
    );
    const expected = group.requests.reduce((sum, pending) => sum + pending.request.count, 0);
    if (predictions.length !== expected) {
      throw new Error(`model returned ${predictions.length} predictions for ${expected} instances`);
    }
    let offset = 0;
    for (const pending of group.requests) {
      const own = predictions.slice(offset, offset + pending.request.count);
      offset += pending.request.count;
      answers.set(pending, own);
      pending.answer(own);
    }
  }
  return requests.flatMap((pending) => answers.get(pending) ?? []);
}

interface KGroup {
  readonly k: number;
  readonly requests: Pending[];
}

/** Requests grouped by k, ascending; arrival order within a group. */
function groupByK(requests: readonly Pending[]): KGroup[] {
  const byK = new Map<number, Pending[]>();
  for (const pending of requests) {
    const group = byK.get(pending.k);
    if (group) group.push(pending);
    else byK.set(pending.k, [pending]);
  }
  return [...byK.entries()].sort(([a], [b]) => a - b).map(([k, group]) => ({ k, requests: group }));
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
