/**
 * Synthetic embeddings for the retrieval tests and benchmark: seeded, so a
 * failure reproduces. "Clustered" mimics trained item towers (points around
 * a few hundred centres); `skewNorms` scales rows so dot products depend on
 * norms, the case where raw inner-product HNSW loses recall.
 */
import { SeededRandom } from '@recdeploy/shared/ann';

/** A seeded uniform source (the project's mulberry32), so a failure reproduces. */
export function seeded(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

/** Standard normal samples from a uniform source (Box–Muller). */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Options for {@link clusteredVectors}. */
export interface ClusterOptions {
  readonly count: number;
  readonly dim: number;
  readonly clusters?: number;
  /** Spread around each centre, relative to the centres' unit scale. */
  readonly spread?: number;
  readonly seed?: number;
  /** Scale each row by a log-normal factor with this sigma (0: none). */
  readonly skewNorms?: number;
  /** L2-normalise every row (norms all equal to 1). */
  readonly normalise?: boolean;
}

/** count × dim float32 rows drawn around random centres. */
export function clusteredVectors(options: ClusterOptions): Float32Array {
  const { count, dim, clusters = 100, spread = 0.35, seed = 1 } = options;
  const random = seeded(seed);
  const normal = gaussian(random);
  const centres = Float32Array.from({ length: clusters * dim }, () => normal() / Math.sqrt(dim));
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(random() * clusters);
    const scale = options.skewNorms ? Math.exp(options.skewNorms * normal()) : 1;
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const value =
        ((centres[c * dim + d] as number) + (spread * normal()) / Math.sqrt(dim)) * scale;
      out[i * dim + d] = value;
      norm += value * value;
    }
    if (options.normalise) {
      const inv = 1 / Math.sqrt(norm);
      for (let d = 0; d < dim; d++) out[i * dim + d] = (out[i * dim + d] as number) * inv;
    }
  }
  return out;
}
