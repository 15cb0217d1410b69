/**
 * Trains the two towers with in-batch softmax (sampled softmax over the batch,
 * as TFRS's `Retrieval` task): for a batch of (customer, product) purchases,
 * the other products of the batch are the negatives. Logits are cosine / τ;
 * a product repeated in the batch is masked out as a negative for its
 * duplicates, which would otherwise be pushed away from their own customer.
 */
import type { LayersModel, Tensor, Variable } from '@tensorflow/tfjs';
import type { PreparedInputs } from '../bundle/preprocessing.js';
import type { Tf } from '../encoder/tf-backend.js';
import { SeededRandom } from './random.js';

/** One row per training purchase, as the two towers take it. */
export interface TrainingData {
  /** Preprocessed query inputs, one row per purchase. */
  readonly queries: PreparedInputs;
  /** Candidate tower inputs per purchase: product row, category, tier. */
  readonly product: Int32Array;
  readonly category: Int32Array;
  readonly tier: Int32Array;
  /** Rows in the product tables (for the sampling-probability correction). */
  readonly productCount: number;
}

/** Hyper-parameters of the training loop. */
export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Softmax temperature on cosine logits. */
  readonly temperature: number;
  readonly seed: number;
  readonly onEpoch?: (epoch: number, loss: number, seconds: number) => void;
}

/** Runs the training loop; returns the mean loss of each epoch. */
export function trainTwoTower(
  tf: Tf,
  query: LayersModel,
  candidate: LayersModel,
  data: TrainingData,
  options: TrainOptions,
): number[] {
  const random = new SeededRandom(options.seed);
  const optimizer = tf.train.adam(options.learningRate);
  // LayerVariable.read() is the tf.Variable itself; minimize needs that type.
  const variables = [...query.trainableWeights, ...candidate.trainableWeights].map(
    (w) => w.read() as Variable,
  );
  const rows = data.product.length;
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const losses: number[] = [];
  const similarity = batchSimilarity(tf);
  const logFrequency = sampleLogFrequency(data.product, data.productCount);
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const started = performance.now();
    random.shuffle(order);
    let total = 0;
    // Whole batches only: a tiny last batch has too few negatives to teach anything.
    const size = Math.min(options.batchSize, rows);
    const batches = Math.floor(rows / size);
    for (let b = 0; b < batches; b++) {
      const batch = order.subarray(b * size, (b + 1) * size);
      const loss = tf.tidy(() => {
        const qFeeds = data.queries.columns.map((column) =>
          tf.tensor2d(pick(column.values, batch), [batch.length, 1], column.dtype),
        );
        const cFeeds = [data.product, data.category, data.tier].map((values) =>
          tf.tensor2d(pick(values, batch), [batch.length, 1], 'int32'),
        );
        const mask = tf.tensor2d(duplicateMask(data.product, batch), [batch.length, batch.length]);
        const logQ = tf.tensor2d(pick(logFrequency, batch), [1, batch.length]);
        const labels = tf.eye(batch.length);
        const cost = optimizer.minimize(
          () => {
            const q = query.apply(qFeeds, { training: true }) as Tensor;
            const c = candidate.apply(cFeeds, { training: true }) as Tensor;
            const scores = tf.div(similarity(q, c), options.temperature);
            const logits = tf.add(tf.sub(scores, logQ), mask);
            return tf.losses.softmaxCrossEntropy(labels, logits);
          },
          true,
          variables,
        );
        return cost!.dataSync()[0]!;
      });
      total += loss;
    }
    losses.push(total / batches);
    options.onEpoch?.(epoch, total / batches, (performance.now() - started) / 1000);
  }
  optimizer.dispose();
  return losses;
}

/**
 * q · cᵀ with a gradient made of plain matMuls. TF.js's own gradient uses
 * transposed matMuls, which the WASM backend runs several times slower than
 * an explicit transpose followed by a plain product: this alone made a
 * training step about 5× faster.
 */
function batchSimilarity(tf: Tf): (q: Tensor, c: Tensor) => Tensor {
  // customGrad passes the inputs and then the save function, all typed as one union.
  return tf.customGrad((...args) => {
    const [q, c, save] = args as [Tensor, Tensor, (tensors: Tensor[]) => void];
    save([q, c]);
    return {
      value: tf.matMul(q, tf.transpose(c)),
      gradFunc: (dy, [savedQ, savedC]) => [
        tf.matMul(dy, savedC!),
        tf.matMul(tf.transpose(dy), savedQ!),
      ],
    };
  });
}

/**
 * log q(product) per purchase: the chance a product shows up as an in-batch
 * negative is its purchase share. Subtracting it from the logits (TFRS's
 * `candidate_sampling_probability`, Yi et al. 2019) removes the bias that
 * would otherwise push best sellers down.
 */
function sampleLogFrequency(product: Int32Array, productCount: number): Float32Array {
  const counts = new Float64Array(productCount);
  for (const p of product) counts[p]! += 1;
  return Float32Array.from(product, (p) => Math.log(counts[p]! / product.length));
}

function pick<T extends Int32Array | Float32Array>(values: T, rows: Int32Array): T {
  const out = new (values.constructor as new (n: number) => T)(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]!]!;
  return out;
}

/** -1e9 where column j is the same product as row i's (j ≠ i): not a true negative. */
function duplicateMask(product: Int32Array, batch: Int32Array): Float32Array {
  const n = batch.length;
  const mask = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const p = product[batch[i]!];
    for (let j = 0; j < n; j++) if (j !== i && product[batch[j]!] === p) mask[i * n + j] = -1e9;
  }
  return mask;
}
