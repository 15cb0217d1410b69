/**
 * Query-like vectors for candidates that come without a query model
 * (retrieval tests, `npm run bench:search`). Index builds of a bundle use
 * `calibrationQueries` instead: real query-tower embeddings, because
 * two-tower queries come from another distribution than the items, and
 * recall measured on item-like points can misjudge the index. Each sample
 * here is a random mixture of two candidate rows plus
 * Gaussian noise at the candidates' own per-coordinate scale, so it lands
 * between items rather than on one (a query equal to an item is trivially easy).
 */
import { SeededRandom } from '../sample/random.js';
import type { CandidateMatrix } from '../types.js';

/** Options for {@link sampleQueryVectors}. */
export interface QuerySampleOptions {
  /** Seed for reproducible builds. Default 1. */
  readonly seed?: number;
  /** Noise standard deviation relative to the candidates' RMS coordinate. Default 0.5. */
  readonly noise?: number;
}

/** `count` query-like vectors, count × D, drawn from the candidates. */
export function sampleQueryVectors(
  candidates: CandidateMatrix,
  count: number,
  options: QuerySampleOptions = {},
): Float32Array {
  const { vectors, dim } = candidates;
  const out = new Float32Array(count * dim);
  if (candidates.count === 0) return out;
  const random = new SeededRandom(options.seed ?? 1);
  const sigma = (options.noise ?? 0.5) * rmsCoordinate(candidates);
  for (let q = 0; q < count; q++) {
    const a = random.int(candidates.count) * dim;
    const b = random.int(candidates.count) * dim;
    const w = 0.5 + 0.5 * random.next();
    for (let d = 0; d < dim; d++) {
      const mixed = w * (vectors[a + d] as number) + (1 - w) * (vectors[b + d] as number);
      out[q * dim + d] = mixed + sigma * random.normal();
    }
  }
  return out;
}

/** Root mean square of all coordinates, over ~10k evenly spaced rows: an estimate suffices. */
function rmsCoordinate({ vectors, count, dim }: CandidateMatrix): number {
  const step = Math.max(1, Math.floor(count / 10_000));
  let sum = 0;
  let n = 0;
  for (let row = 0; row < count; row += step, n += dim) {
    for (let d = 0; d < dim; d++) sum += (vectors[row * dim + d] as number) ** 2;
  }
  return Math.sqrt(sum / Math.max(n, 1));
}
