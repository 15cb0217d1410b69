/**
 * Large benchmark catalogues (100k, 1M products) are not trained: the model
 * is trained on the first products only, and the embeddings of the rest are
 * synthesised from what training learned. Each (category, tier) group's
 * trained embeddings give a centre and a spread; a synthetic product is its
 * group's centre plus Gaussian noise of that spread, L2-normalised. The result
 * keeps the trained model's cluster structure, so query embeddings from the
 * real query tower land where products are, as they would in production.
 */
import type { Catalogue } from './b2b-data.js';
import type { SeededRandom } from './random.js';

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
  const out = new Float32Array(catalogue.count * dim);
  out.set(trained.subarray(0, trainedCount * dim));
  for (let p = trainedCount; p < catalogue.count; p++) {
    const { centre, spread } = stats.get(groupOf(p)) ?? stats.get(-1)!;
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = centre[d]! + spread * random.normal();
      out[p * dim + d] = v;
      norm += v * v;
    }
    const scale = 1 / Math.sqrt(norm || 1);
    for (let d = 0; d < dim; d++) out[p * dim + d]! *= scale;
  }
  return out;
}

/** Centre and per-dimension RMS spread of each group (key -1: all products). */
function groupStats(
  vectors: Float32Array,
  count: number,
  dim: number,
  groupOf: (p: number) => number,
) {
  const members = new Map<number, number[]>([[-1, []]]);
  for (let p = 0; p < count; p++) {
    members.get(-1)!.push(p);
    const list = members.get(groupOf(p)) ?? [];
    list.push(p);
    members.set(groupOf(p), list);
  }
  const stats = new Map<number, { centre: Float64Array; spread: number }>();
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
