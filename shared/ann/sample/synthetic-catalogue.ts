/**
 * Large benchmark catalogues (100k, 1M products) are not trained: the model
 * is trained on the first products only, and the embeddings of the rest are
 * synthesised from what training learned, so that query embeddings from the
 * real query tower land where products are, as they would in production.
 *
 * A synthetic product is its (category, tier) group's centre plus noise with
 * the covariance of the trained products' residuals around their own group
 * centres (pooled over groups), scaled to its group's spread, then
 * L2-normalised. The covariance matters as much as the centres: trained
 * embeddings occupy few directions (95% of their within-group variance lies
 * in about 28 of 64 dimensions in the 2,000-product sample), and HNSW's cost
 * grows with that intrinsic dimension. Isotropic noise, used before, spread
 * synthetic products over 61 of 64 dimensions: near the worst case for a
 * graph index (recall@100 0.76 at ef 100 at 1M) and unlike any trained model.
 *
 * The noise is a random combination of trained residuals: for z_j ~ N(0, 1)
 * and residuals r_j drawn uniformly, Σ z_j r_j / √m has covariance exactly
 * the pooled residual covariance, with no matrix factorisation (a Gaussian
 * scale mixture that tends to that Gaussian as m grows).
 */
import type { Catalogue } from './b2b-data.js';
import type { SeededRandom } from './random.js';

/**
 * Names this way of synthesising, recorded in the manifest (`sample.synthesis`)
 * so tools holding older bundles (the serving benchmark) know to regenerate them.
 */
export const SYNTHESIS_METHOD = 'group-centre+pooled-residual-covariance';

/** Trained residuals combined per synthetic product (see the module comment). */
export const RESIDUALS_PER_PRODUCT = 16;

/** Candidates for the whole `catalogue`: the first trainedCount rows copied, the rest synthesised. */
export function extendCandidates(
  trained: Float32Array,
  trainedCount: number,
  catalogue: Catalogue,
  dim: number,
  random: SeededRandom,
): Float32Array {
  const groupOf = (p: number) => catalogue.category[p]! * 3 + catalogue.tier[p]!;
  const stats = groupStats(trained, trainedCount, dim, groupOf);
  const residuals = pooledResiduals(trained, trainedCount, dim, groupOf, stats);
  const global = stats.get(-1)!;
  const out = new Float32Array(catalogue.count * dim);
  out.set(trained.subarray(0, trainedCount * dim));
  const noise = new Float64Array(dim);
  const weight = 1 / Math.sqrt(RESIDUALS_PER_PRODUCT);
  for (let p = trainedCount; p < catalogue.count; p++) {
    const { centre, spread } = stats.get(groupOf(p)) ?? global;
    noise.fill(0);
    for (let j = 0; j < RESIDUALS_PER_PRODUCT; j++) {
      const base = random.int(trainedCount) * dim;
      const z = random.normal() * weight;
      for (let d = 0; d < dim; d++) noise[d]! += z * residuals.values[base + d]!;
    }
    // Residuals have RMS spread residuals.spread; this group's is `spread`.
    const scale = residuals.spread > 0 ? spread / residuals.spread : 0;
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = centre[d]! + scale * noise[d]!;
      out[p * dim + d] = v;
      norm += v * v;
    }
    const inverse = 1 / Math.sqrt(norm || 1);
    for (let d = 0; d < dim; d++) out[p * dim + d]! *= inverse;
  }
  return out;
}

interface GroupStats {
  readonly centre: Float64Array;
  /** Per-dimension RMS distance of the group's members from its centre. */
  readonly spread: number;
}

/** Centre and per-dimension RMS spread of each group (key -1: all products). */
function groupStats(
  vectors: Float32Array,
  count: number,
  dim: number,
  groupOf: (p: number) => number,
): Map<number, GroupStats> {
  const members = new Map<number, number[]>([[-1, []]]);
  for (let p = 0; p < count; p++) {
    members.get(-1)!.push(p);
    const list = members.get(groupOf(p)) ?? [];
    list.push(p);
    members.set(groupOf(p), list);
  }
  const stats = new Map<number, GroupStats>();
  for (const [group, rows] of members) {
    if (rows.length < 2 && group !== -1) continue; // too few to estimate a spread: use the global one
    const centre = new Float64Array(dim);
    for (const p of rows)
      for (let d = 0; d < dim; d++) centre[d]! += vectors[p * dim + d]! / rows.length;
    let squares = 0;
    for (const p of rows)
      for (let d = 0; d < dim; d++) squares += (vectors[p * dim + d]! - centre[d]!) ** 2;
    stats.set(group, { centre, spread: Math.sqrt(squares / (rows.length * dim)) });
  }
  return stats;
}

/**
 * Every trained product minus the centre of its group (the global centre for
 * groups too small to have one), and their per-dimension RMS.
 */
function pooledResiduals(
  vectors: Float32Array,
  count: number,
  dim: number,
  groupOf: (p: number) => number,
  stats: Map<number, GroupStats>,
): { values: Float64Array; spread: number } {
  const values = new Float64Array(count * dim);
  let squares = 0;
  for (let p = 0; p < count; p++) {
    const { centre } = stats.get(groupOf(p)) ?? stats.get(-1)!;
    for (let d = 0; d < dim; d++) {
      const r = vectors[p * dim + d]! - centre[d]!;
      values[p * dim + d] = r;
      squares += r * r;
    }
  }
  return { values, spread: Math.sqrt(squares / Math.max(count * dim, 1)) };
}
