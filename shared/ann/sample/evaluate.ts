/**
 * Recall@k on held-out purchases: the share of (customer, product) pairs for
 * which the product is among the k best-scoring candidates of that
 * customer's query embedding. Random ranking scores k/N in expectation; a
 * popularity ranking (the k best sellers for everyone) is the honest
 * baseline a personalised model has to beat.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { Preprocessor } from '../bundle/preprocessing.js';
import type { Tf } from '../encoder/tf-backend.js';
import type { SampleData } from './sample-data.js';
import { embedRows } from './sample-helpers.js';

/** Recall@k of the trained model and of the two baselines on the held-out purchases. */
export interface RetrievalQuality {
  readonly k: number;
  readonly recall: number;
  /** k / N: what a random ranking scores in expectation. */
  readonly random: number;
  /** Recommending the k best sellers to everyone. */
  readonly popularity: number;
}

/** Evaluates the query tower against `candidateVectors` (the trained products). */
export function evaluateRetrieval(
  tf: Tf,
  query: LayersModel,
  preprocessor: Preprocessor,
  data: SampleData,
  candidateVectors: Float32Array,
  k: number,
): RetrievalQuality {
  const n = data.trained.count;
  const queries = embedRows(
    tf,
    query,
    preprocessor.instances(data.testRows).columns.map((c) => c.values),
  );
  const dim = candidateVectors.length / n;
  return {
    k,
    recall: recallAtK(tf, queries, data.test.product, candidateVectors, dim, k),
    random: Math.min(1, k / n),
    popularity: popularityRecallAtK(data.train.product, data.test.product, n, k),
  };
}

/** Recall@k of `queries` (count × D, one per held-out purchase) against `candidates` (N × D). */
export function recallAtK(
  tf: Tf,
  queries: Float32Array,
  truth: Int32Array,
  candidates: Float32Array,
  dim: number,
  k: number,
): number {
  const count = truth.length;
  const n = candidates.length / dim;
  // Transposed once: a plain matMul against [D, N] is much faster on WASM than transposeB.
  const items = tf.tidy(() => tf.tensor2d(candidates, [n, dim]).transpose());
  let hits = 0;
  try {
    for (let start = 0; start < count; start += 512) {
      const end = Math.min(count, start + 512);
      const top = tf.tidy(() => {
        const q = tf.tensor2d(queries.subarray(start * dim, end * dim), [end - start, dim]);
        return tf.topk(tf.matMul(q, items), Math.min(k, n)).indices.dataSync();
      });
      const width = Math.min(k, n);
      for (let row = 0; row < end - start; row++) {
        const want = truth[start + row];
        for (let j = 0; j < width; j++) {
          if (top[row * width + j] === want) {
            hits++;
            break;
          }
        }
      }
    }
  } finally {
    items.dispose();
  }
  return count === 0 ? 0 : hits / count;
}

/** Recall@k of recommending the k most purchased products (in `trainProducts`) to everyone. */
export function popularityRecallAtK(
  trainProducts: Int32Array,
  truth: Int32Array,
  productCount: number,
  k: number,
): number {
  const counts = new Float64Array(productCount);
  for (const p of trainProducts) counts[p]! += 1;
  const top = new Set(
    Array.from({ length: productCount }, (_, p) => p)
      .sort((a, b) => counts[b]! - counts[a]! || a - b)
      .slice(0, k),
  );
  let hits = 0;
  for (const p of truth) if (top.has(p)) hits++;
  return truth.length === 0 ? 0 : hits / truth.length;
}
