/**
 * The bundle-facing parts of the sample model: the manifest (inputs with the
 * TFT preprocessing computed over the training rows), client-shaped instances,
 * original product ids and the example instances.
 */
import { SYNTHESIS_METHOD } from './synthetic-catalogue.js';
import type { Manifest } from '../bundle/manifest.js';
import type { RetrievalQuality } from './evaluate.js';
import type { ProductId } from '../types.js';
import type { Customers } from './b2b-data.js';
import { customerInstance } from './sample-data.js';
import type { SeededRandom } from './random.js';
import { tftMeanAndStd, tftVocabulary } from './tft-analyzers.js';

/** OOV buckets per vocabulary input: new customers hash into 8; an unseen city or segment gets one. */
const OOV_BUCKETS = { customer_id: 8, city: 1, segment: 1 } as const;

/** Vocabularies and the manifest's inputs, analysed over the training rows as TFT would. */
export function analyseInputs(rows: readonly Record<string, unknown>[]): {
  inputs: Manifest['inputs'];
  vocabularies: Map<string, string[]>;
} {
  const vocabularies = new Map<string, string[]>();
  const inputs: Manifest['inputs'] = [];
  for (const name of ['customer_id', 'city', 'segment'] as const) {
    vocabularies.set(name, tftVocabulary(rows.map((row) => row[name] as string)));
    inputs.push({
      name,
      dtype: 'string',
      preprocessing: {
        kind: 'vocabulary',
        vocabulary_file: `vocab/${name}.txt`,
        num_oov_buckets: OOV_BUCKETS[name],
      },
    });
  }
  const { mean, std } = tftMeanAndStd(rows.map((row) => row.revenue as number));
  inputs.push({ name: 'revenue', dtype: 'float32', preprocessing: { kind: 'z_score', mean, std } });
  return { inputs, vocabularies };
}

/** Product ids: integers from 100001, or strings "P-000001" (width grows with N). */
export function productIds(count: number, idType: 'int' | 'string'): ProductId[] {
  const width = Math.max(6, String(count).length);
  return Array.from({ length: count }, (_, i) =>
    idType === 'int' ? 100_001 + i : `P-${String(i + 1).padStart(width, '0')}`,
  );
}

/** Example instances: known customers, a new customer (OOV id) and one from a city never seen. */
export function exampleInstances(
  customers: Customers,
  candidates: readonly number[],
  random: SeededRandom,
): Record<string, unknown>[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(5, candidates.length))
    chosen.add(candidates[random.int(candidates.length)]!);
  const known = [...chosen].map((c) => customerInstance(customers, c));
  return [
    ...known,
    { customer_id: 'C-NEW-000001', city: 'Warsaw', segment: 'horeca', revenue: 180000 },
    { customer_id: 'C-NEW-000002', city: 'Lisbon', segment: 'wholesale', revenue: 2500000 },
  ];
}

/** The manifest of a sample bundle of `products` candidates (metrics added once measured). */
export function sampleManifest(
  inputs: Manifest['inputs'],
  dim: number,
  products: number,
  idType: 'int' | 'string',
): Manifest {
  return {
    format_version: 1,
    model_type: 'retrieval',
    embedding_dim: dim,
    metric: 'dot',
    default_k: Math.min(100, products),
    max_k: Math.min(1000, products),
    inputs,
    product_id_dtype: idType === 'int' ? 'int64' : 'string',
    candidate_count: products,
  };
}

/** What the manifest records about how the sample model was made. */
export interface TrainingRecord {
  readonly seed: number;
  readonly backend: string;
  readonly quality: RetrievalQuality;
  readonly customers: number;
  readonly heldOut: number;
  readonly finalLoss: number;
  readonly trainSeconds: number;
  readonly trainedProducts: number;
}

/**
 * `manifest` with model_version, trained_at, metrics and a `sample` section
 * (an extra field, kept by readers) that says which embeddings are synthetic.
 */
export function withTrainingRecord(manifest: Manifest, record: TrainingRecord): Manifest {
  const synthetic = manifest.candidate_count - record.trainedProducts;
  return {
    ...manifest,
    model_version: `sample-${record.seed}`,
    trained_at: new Date().toISOString(),
    metrics: {
      recall_at_100: record.quality.recall,
      random_recall_at_100: record.quality.random,
      popularity_recall_at_100: record.quality.popularity,
      held_out_interactions: record.heldOut,
      final_loss: record.finalLoss,
      train_seconds: record.trainSeconds,
    },
    sample: {
      generator: 'recdeploy sample-model',
      seed: record.seed,
      backend: record.backend,
      customers: record.customers,
      trained_products: record.trainedProducts,
      synthetic_products: synthetic,
      ...(synthetic > 0
        ? {
            synthesis: SYNTHESIS_METHOD,
            note: `only the first ${record.trainedProducts} products were trained; the other ${synthetic} embeddings are synthetic (their trained category/tier centre plus noise shaped like the trained within-group residuals, L2-normalised); recall is measured on the trained products`,
          }
        : {}),
    },
  } as Manifest;
}
