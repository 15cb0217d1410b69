/**
 * A small valid bundle manifest and its vocabularies, shaped like the sample
 * model's (customer_id/city vocabularies with OOV buckets, z-scored revenue).
 */
import type { Manifest } from '@recdeploy/shared/ann';

export const CITIES = ['Warsaw', 'Krakow', 'Gdansk'];
export const CUSTOMERS = ['C1', 'C2', 'C3', 'C4'];

export function validManifest(overrides: Partial<Manifest> = {}): Manifest {
  return {
    format_version: 1,
    model_type: 'retrieval',
    embedding_dim: 8,
    metric: 'dot',
    default_k: 5,
    max_k: 10,
    inputs: [
      {
        name: 'customer_id',
        dtype: 'string',
        preprocessing: {
          kind: 'vocabulary',
          vocabulary_file: 'vocab/customer_id.txt',
          num_oov_buckets: 10,
        },
      },
      {
        name: 'city',
        dtype: 'string',
        preprocessing: {
          kind: 'vocabulary',
          vocabulary_file: 'vocab/city.txt',
          num_oov_buckets: 0,
        },
      },
      {
        name: 'revenue',
        dtype: 'float32',
        preprocessing: { kind: 'z_score', mean: 1000, std: 250 },
      },
    ],
    product_id_dtype: 'int64',
    candidate_count: 20,
    ...overrides,
  };
}

export function validVocabularies(): Map<string, string[]> {
  return new Map([
    ['customer_id', [...CUSTOMERS]],
    ['city', [...CITIES]],
  ]);
}

/** A deep copy of `value` as plain JSON (to corrupt freely). */
export function jsonCopy<T>(value: T): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
