/**
 * How candidate vectors enter an HNSW graph so that nearest neighbours in the
 * graph's space are the top dot products. Raw inner product is not a metric
 * (an item can be closer to another than to itself) and its graphs lose
 * recall on skewed norms (hnswlib#74, milvus#51821), so raw 'ip' is never used:
 *
 * - `normalize`: every candidate norm is within {@link EQUAL_NORM_TOLERANCE} of
 *   the others, so ranking by cosine is ranking by dot product. Items are
 *   L2-normalised and searched in 'ip' (1 − cos); queries go in raw, since a
 *   query's norm does not change its ranking.
 * - `mips-l2`: norms differ, so they carry signal (popularity, say). The
 *   standard MIPS→NN reduction appends sqrt(max‖x‖² − ‖x‖²) to each item and
 *   0 to each query; then ‖q − x‖² = ‖q‖² + max‖x‖² − 2 q·x, and the L2
 *   nearest items are exactly the top dot products. `max` is per graph: the
 *   builder gives each shard a narrow range of norms (shard-plan.ts).
 *
 * Either way the searcher re-scores hits against the raw vectors, so callers
 * always see true dot products.
 */
import type { CandidateMatrix } from '../types.js';

/** Relative spread of candidate norms below which `normalize` is exact enough. */
export const EQUAL_NORM_TOLERANCE = 1e-3;

/** Which reduction an index uses; queries only need this. */
export type TransformKind = 'normalize' | 'mips-l2';

/** The transform of one graph: the kind, plus its max‖x‖² for `mips-l2`. */
export type IndexTransform =
  { readonly kind: 'normalize' } | { readonly kind: 'mips-l2'; readonly maxNormSquared: number };

/** The hnswlib space that goes with a transform. */
export function spaceOf(kind: TransformKind): 'ip' | 'l2' {
  return kind === 'normalize' ? 'ip' : 'l2';
}

/** Dimension of the vectors in the graph: D, or D + 1 after the MIPS augmentation. */
export function graphDim(kind: TransformKind, dim: number): number {
  return kind === 'normalize' ? dim : dim + 1;
}

/** Every row's squared norm (float64). */
export function squaredNorms({ vectors, count, dim }: CandidateMatrix): Float64Array {
  const out = new Float64Array(count);
  for (let row = 0; row < count; row++) out[row] = normSquared(vectors, row * dim, dim);
  return out;
}

/** Chooses the reduction from the candidates' squared norms (see the module comment). */
export function chooseTransformKind(norms2: Float64Array): TransformKind {
  let min = Infinity;
  let max = 0;
  for (const n of norms2) {
    if (n < min) min = n;
    if (n > max) max = n;
  }
  if (norms2.length === 0) return 'normalize';
  return Math.sqrt(max) - Math.sqrt(min) <= EQUAL_NORM_TOLERANCE * Math.sqrt(max)
    ? 'normalize'
    : 'mips-l2';
}

/**
 * Writes row `row` of `vectors` (squared norm `norm2`) as the graph stores it
 * into `out` (length graphDim).
 */
export function itemPoint(
  transform: IndexTransform,
  vectors: Float32Array,
  row: number,
  dim: number,
  norm2: number,
  out: number[],
): void {
  const off = row * dim;
  const scale = transform.kind === 'normalize' && norm2 > 0 ? 1 / Math.sqrt(norm2) : 1;
  for (let d = 0; d < dim; d++) out[d] = (vectors[off + d] as number) * scale;
  if (transform.kind === 'mips-l2') {
    out[dim] = Math.sqrt(Math.max(0, transform.maxNormSquared - norm2));
  }
}

/** Writes query `index` of a packed batch as the graphs expect into `out`. */
export function queryPoint(
  kind: TransformKind,
  queries: Float32Array,
  index: number,
  dim: number,
  out: number[],
): void {
  const off = index * dim;
  for (let d = 0; d < dim; d++) out[d] = queries[off + d] as number;
  if (kind === 'mips-l2') out[dim] = 0;
}

/** Squared L2 norm of `dim` floats starting at `off`. */
export function normSquared(vectors: Float32Array, off: number, dim: number): number {
  let sum = 0;
  for (let d = 0; d < dim; d++) {
    const v = vectors[off + d] as number;
    sum += v * v;
  }
  return sum;
}
