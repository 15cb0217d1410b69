/**
 * Writes a tiny but real bundle with writeBundle: a TF.js query model over the
 * fixture manifest's inputs (customer_id, city, revenue), random unit
 * candidates and two examples. `modelDim` different from `dim` makes a model
 * whose output does not match the manifest.
 */
import type { SymbolicTensor } from '@tensorflow/tfjs';
import {
  loadTf,
  SeededRandom,
  registerL2Normalize,
  writeBundle,
  type Manifest,
  type ProductId,
} from '@recdeploy/shared/ann';
import { validManifest, validVocabularies } from './manifest-fixture.js';

export interface TinyBundleOptions {
  readonly dim?: number;
  readonly modelDim?: number;
  readonly count?: number;
  readonly idType?: 'int64' | 'string';
  readonly manifest?: Partial<Manifest>;
}

export const TINY_EXAMPLES = [
  { customer_id: 'C1', city: 'Warsaw', revenue: 1200 },
  { customer_id: 'C-NEW', city: 'Gdansk', revenue: 900.5 },
];

/** Writes the bundle into `dir/ann` and returns that directory. */
export async function writeTinyBundle(
  dir: string,
  options: TinyBundleOptions = {},
): Promise<string> {
  const { dim = 8, count = 20, idType = 'int64' } = options;
  const { tf } = await loadTf();
  const l2 = registerL2Normalize(tf);
  const ids = (name: string) => tf.input({ shape: [1], dtype: 'int32', name });
  const [customer, city] = [ids('customer_id'), ids('city')];
  const revenue = tf.input({ shape: [1], name: 'revenue' });
  const embed = (input: SymbolicTensor, rows: number, seed: number) =>
    tf.layers.flatten().apply(
      tf.layers
        .embedding({
          inputDim: rows,
          outputDim: 4,
          embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed }),
        })
        .apply(input),
    ) as SymbolicTensor;
  const joined = tf.layers
    .concatenate()
    .apply([embed(customer, 14, 1), embed(city, 3, 2), revenue]) as SymbolicTensor;
  const dense = tf.layers
    .dense({
      units: options.modelDim ?? dim,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    })
    .apply(joined) as SymbolicTensor;
  const model = tf.model({
    inputs: [customer, city, revenue],
    outputs: l2().apply(dense) as SymbolicTensor,
  });

  const random = new SeededRandom(7);
  const vectors = new Float32Array(count * dim);
  for (let i = 0; i < vectors.length; i++) vectors[i] = random.normal();
  const productIds: ProductId[] = Array.from({ length: count }, (_, i) =>
    idType === 'int64' ? 1001 + i : `P-${i + 1}`,
  );
  try {
    return await writeBundle(dir, {
      manifest: {
        ...validManifest({
          embedding_dim: dim,
          candidate_count: count,
          product_id_dtype: idType,
          ...options.manifest,
        }),
        note: 'kept',
      } as Manifest,
      candidates: { vectors, count, dim },
      productIds,
      vocabularies: validVocabularies(),
      examples: TINY_EXAMPLES,
      queryModel: model,
    });
  } finally {
    model.dispose();
  }
}
