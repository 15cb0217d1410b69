/**
 * Builds and trains the sample's two towers on the preprocessed training rows,
 * then embeds the trained catalogue with the candidate tower.
 */
import type { Manifest } from '../bundle/manifest.js';
import type { Preprocessor, Vocabularies } from '../bundle/preprocessing.js';
import type { Tf } from '../encoder/tf-backend.js';
import { CATEGORIES, TIERS } from './b2b-data.js';
import type { SampleData } from './sample-data.js';
import { embedRows } from './sample-helpers.js';
import { trainTwoTower } from './train.js';
import { buildTwoTower, type TwoTower } from './two-tower-model.js';

/** Options of `fitSampleModel`. */
export interface FitOptions {
  readonly epochs: number;
  readonly seed: number;
  readonly say: (line: string) => void;
}

/** The trained towers with their loss curve, training time and candidate embeddings. */
export interface FittedModel extends TwoTower {
  readonly losses: number[];
  readonly trainSeconds: number;
  /** Candidate-tower embeddings of the trained products (trained.count × D). */
  readonly candidateVectors: Float32Array;
}

/** Trains with in-batch softmax (batch 512, Adam 0.005, τ 0.1: tuned on the default data). */
export function fitSampleModel(
  tf: Tf,
  data: SampleData,
  manifest: Manifest,
  vocabularies: Vocabularies,
  preprocessor: Preprocessor,
  options: FitOptions,
): FittedModel {
  const rows = (name: string) => {
    const p = manifest.inputs.find((input) => input.name === name)?.preprocessing;
    return (
      (vocabularies.get(name)?.length ?? 0) + (p?.kind === 'vocabulary' ? p.num_oov_buckets : 0)
    );
  };
  const { trained, train } = data;
  const towers = buildTwoTower(
    tf,
    {
      customerIds: rows('customer_id'),
      cities: rows('city'),
      segments: rows('segment'),
      products: trained.count,
      categories: CATEGORIES.length,
      tiers: TIERS.length,
    },
    manifest.embedding_dim,
    options.seed,
  );
  const of = (values: Int32Array) => Int32Array.from(train.product, (p) => values[p]!);
  const started = performance.now();
  const losses = trainTwoTower(
    tf,
    towers.query,
    towers.candidate,
    {
      queries: preprocessor.instances(data.trainRows),
      product: train.product,
      category: of(trained.category),
      tier: of(trained.tier),
      productCount: trained.count,
    },
    {
      epochs: options.epochs,
      batchSize: 512,
      learningRate: 0.005,
      temperature: 0.1,
      seed: options.seed,
      onEpoch: (e, loss, s) =>
        options.say(`epoch ${e}/${options.epochs}: loss ${loss.toFixed(3)} (${s.toFixed(1)} s)`),
    },
  );
  const trainSeconds = (performance.now() - started) / 1000;
  const ids = Int32Array.from({ length: trained.count }, (_, i) => i);
  const candidateVectors = embedRows(tf, towers.candidate, [ids, trained.category, trained.tier]);
  return { ...towers, losses, trainSeconds, candidateVectors };
}
