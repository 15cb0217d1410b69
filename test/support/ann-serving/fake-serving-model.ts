/**
 * An in-memory ServingModel for the REST layer's unit tests: a fixed
 * catalogue, scores that depend on the instance, and knobs for failures. The
 * protocol tests against a real bundle (test/integration/ann-serving) keep
 * the REST layer honest about the real model.
 */
import { PermanentError } from '@recdeploy/shared';
import type { Instance } from '../../../services/ann-serving/src/protocol/instances.js';
import type { Prediction } from '../../../services/ann-serving/src/protocol/predict-response.js';
import {
  PREDICT_METHOD,
  sortedTensorMap,
  type SignatureDef,
} from '../../../services/ann-serving/src/protocol/signature.js';
import type {
  PreparedRequest,
  ServingModel,
} from '../../../services/ann-serving/src/model/serving-model.js';

interface FakePrepared extends PreparedRequest {
  readonly instances: readonly Instance[];
}

export class FakeServingModel implements ServingModel {
  readonly name = 'recommender';
  readonly version = 1;
  readonly defaultK = 3;
  readonly maxK = 5;
  readonly catalogueSize = 5;
  readonly encoderBackend = 'fake';
  readonly encoderExecutor = 'tfjs' as const;
  readonly mode = 'exact' as const;
  readonly signature: SignatureDef = {
    inputs: sortedTensorMap([
      [
        'customer_id',
        { dtype: 'DT_STRING', shape: [-1], tensorName: 'serving_default_customer_id:0' },
      ],
      ['revenue', { dtype: 'DT_FLOAT', shape: [-1], tensorName: 'serving_default_revenue:0' }],
    ]),
    outputs: sortedTensorMap([
      [
        'product_ids',
        { dtype: 'DT_STRING', shape: [-1, -1], tensorName: 'StatefulPartitionedCall:0' },
      ],
      ['scores', { dtype: 'DT_FLOAT', shape: [-1, -1], tensorName: 'StatefulPartitionedCall:1' }],
    ]),
    methodName: PREDICT_METHOD,
  };
  /** Instance counts of every predict call (one call per micro-batch). */
  readonly calls: number[] = [];
  /** When set, predict fails with it (a server-side fault). */
  failWith: Error | undefined;
  disposed = false;

  prepare(instances: readonly Instance[]): FakePrepared {
    for (const instance of instances) {
      if (instance.customer_id === 'bad') {
        throw new PermanentError(
          'INPUT.INVALID',
          'value bad is not in the vocabulary of "customer_id"',
        );
      }
    }
    return { count: instances.length, instances };
  }

  predict(requests: readonly PreparedRequest[], k: number): Promise<Prediction[]> {
    const instances = (requests as readonly FakePrepared[]).flatMap((request) => request.instances);
    this.calls.push(instances.length);
    if (this.failWith) return Promise.reject(this.failWith);
    return Promise.resolve(
      instances.map((instance) => {
        const revenue = Number(instance.revenue);
        const scores = Array.from({ length: Math.min(k, 5) }, (_, i) =>
          Math.fround(revenue / (i + 1)),
        );
        return { productIds: scores.map((_, i) => `P${i + 1}`), scores };
      }),
    );
  }

  dispose(): Promise<void> {
    this.disposed = true;
    return Promise.resolve();
  }
}
