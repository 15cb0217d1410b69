/**
 * Predictions through the micro-batcher: each instance is one batch item,
 * so BATCH_MAX_SIZE counts instances, as TF Serving's max_batch_size does.
 * An item points at its request's prepared inputs; a request's items are
 * consecutive in a batch, so the distinct requests, in order, are the batch.
 * Requests in one batch may ask for different k; the batch is searched once
 * with the largest and each instance's list is cut to its own k (the best k
 * of a top-k' list, k ≤ k', are the top k).
 */
import type { Prediction } from '../protocol/predict-response.js';
import type { PreparedRequest, ServingModel } from '../model/serving-model.js';
import { MicroBatcher, type BatchingOptions } from './micro-batcher.js';

interface Item {
  readonly request: PreparedRequest;
  readonly k: number;
}

export class BatchedPredictor {
  private readonly batcher: MicroBatcher<Item, Prediction>;

  constructor(model: ServingModel, options: BatchingOptions, onBatch?: (size: number) => void) {
    this.batcher = new MicroBatcher<Item, Prediction>(
      options,
      async (items) => {
        const k = items.reduce((most, item) => Math.max(most, item.k), 1);
        const requests = items
          .map((item) => item.request)
          .filter((request, i, all) => request !== all[i - 1]);
        const predictions = await model.predict(requests, k);
        return predictions.map((prediction, i) => truncate(prediction, items[i]!.k));
      },
      onBatch,
    );
  }

  /** Instances waiting for a batch. */
  get pendingInstances(): number {
    return this.batcher.pendingItems;
  }

  /** Throws QueueFullError (synchronously) when the queue cannot take the request. */
  predict(request: PreparedRequest, k: number): Promise<Prediction[]> {
    return this.batcher.submit(Array.from({ length: request.count }, () => ({ request, k })));
  }
}

function truncate(prediction: Prediction, k: number): Prediction {
  if (prediction.productIds.length <= k) return prediction;
  return {
    productIds: prediction.productIds.slice(0, k),
    scores: Array.prototype.slice.call(prediction.scores, 0, k) as number[],
  };
}
