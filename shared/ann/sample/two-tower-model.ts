/**
 * The sample's two-tower retrieval model (TensorFlow Recommenders' shape):
 * a query tower over the customer (id, city, segment embeddings plus z-scored
 * revenue) and a candidate tower over the product (id, category, tier
 * embeddings), each a small MLP ending in an L2-normalised D-vector, so the
 * dot product the server ranks by is a cosine. Every initialiser is seeded.
 */
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';
import { registerL2Normalize } from '../encoder/l2-normalize-layer.js';
import type { Tf } from '../encoder/tf-backend.js';

/** Rows of each embedding table (vocabulary size plus OOV buckets for query inputs). */
export interface TowerSizes {
  readonly customerIds: number;
  readonly cities: number;
  readonly segments: number;
  readonly products: number;
  readonly categories: number;
  readonly tiers: number;
}

/** Query tower inputs, in manifest order. */
export const QUERY_INPUTS = ['customer_id', 'city', 'segment', 'revenue'] as const;

/** The query and candidate towers (TF.js functional models). */
export interface TwoTower {
  readonly query: LayersModel;
  readonly candidate: LayersModel;
}

/** Builds both towers with output size `dim`. */
export function buildTwoTower(tf: Tf, sizes: TowerSizes, dim: number, seed: number): TwoTower {
  const l2Normalize = registerL2Normalize(tf);
  let nextSeed = seed;
  const embed = (input: SymbolicTensor, rows: number, width: number, name: string) =>
    tf.layers.flatten({ name: `${name}_flat` }).apply(
      tf.layers
        .embedding({
          inputDim: rows,
          outputDim: width,
          name: `${name}_embedding`,
          embeddingsInitializer: tf.initializers.randomUniform({
            minval: -0.05,
            maxval: 0.05,
            seed: nextSeed++,
          }),
        })
        .apply(input),
    ) as SymbolicTensor;
  const head = (features: SymbolicTensor[], name: string) => {
    const joined = tf.layers
      .concatenate({ name: `${name}_features` })
      .apply(features) as SymbolicTensor;
    const hidden = tf.layers
      .dense({
        units: 128,
        activation: 'relu',
        name: `${name}_hidden`,
        kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed++ }),
      })
      .apply(joined) as SymbolicTensor;
    const out = tf.layers
      .dense({
        units: dim,
        name: `${name}_embedding`,
        kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed++ }),
      })
      .apply(hidden) as SymbolicTensor;
    return l2Normalize({ name: `${name}_l2` }).apply(out) as SymbolicTensor;
  };
  const id = (name: string) => tf.input({ shape: [1], dtype: 'int32', name });

  const [customerId, city, segment] = [id('customer_id'), id('city'), id('segment')];
  const revenue = tf.input({ shape: [1], dtype: 'float32', name: 'revenue' });
  const query = tf.model({
    name: 'query_tower',
    inputs: [customerId, city, segment, revenue],
    outputs: head(
      [
        embed(customerId, sizes.customerIds, 32, 'customer_id'),
        embed(city, sizes.cities, 8, 'city'),
        embed(segment, sizes.segments, 4, 'segment'),
        revenue,
      ],
      'query',
    ),
  });

  const [product, category, tier] = [id('product'), id('category'), id('tier')];
  const candidate = tf.model({
    name: 'candidate_tower',
    inputs: [product, category, tier],
    outputs: head(
      [
        embed(product, sizes.products, 32, 'product'),
        embed(category, sizes.categories, 16, 'category'),
        embed(tier, sizes.tiers, 4, 'tier'),
      ],
      'candidate',
    ),
  });
  return { query, candidate };
}
