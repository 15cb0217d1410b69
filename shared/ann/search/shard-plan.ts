/**
 * Which rows go into which graph. The builder shards for two reasons:
 *
 * - Speed: hnswlib-node 3.0.0 inserts single-threaded into one graph, so
 *   using both cores means one graph per worker thread, searched together.
 * - Recall under the MIPS→L2 reduction (norm ranging, Yan et al., NeurIPS
 *   2018): the appended coordinate sqrt(max‖x‖² − ‖x‖²) is large for small
 *   items, which puts every query far from the data and makes greedy graph
 *   search miss. Sorting rows by norm and giving each shard its own max keeps
 *   that coordinate small within a shard. Measured at N = 100k (D = 64,
 *   M = 32, clustered, norms 0.72–1.41): one graph topped out at recall@100
 *   0.89–0.93 at ef = 800; four norm-ranged shards gave 0.96 at ef = 100.
 *
 * With equal norms (`normalize`) shards are plain contiguous row blocks.
 */
import os from 'node:os';
import type { IndexTransform, TransformKind } from './vector-space.js';

/** Fewer rows than this per graph is not worth a thread (worker start-up dominates). */
export const MIN_ROWS_PER_SHARD = 1_000;

/**
 * The default shard count, from one quiet run of bench-search.ts (N = 100k,
 * D = 64, M = 32, efConstruction 200, 2-core VM; graph build s / chosen ef /
 * p50 ms at that ef):
 *
 * | data                     | 1 graph             | 2 shards         | 4 shards         |
 * |--------------------------|---------------------|------------------|------------------|
 * | normalised (`normalize`) | 13.0 / 800 / 0.42   | 5.4 / 400 / 0.50 | 6.0 / 200 / 0.70 |
 * | raw norms (`mips-l2`)    | 10.6 / fails (0.89) | 5.2 / 600 / 0.79 | 4.9 / 100 / 0.51 |
 *
 * So: one shard per core (≤ 4) for `normalize`, the fastest build for +19%
 * latency; four norm ranges (or one per core, if more) for `mips-l2`, the
 * fastest build and the lowest latency. Tiny catalogues get fewer shards.
 */
export function defaultShards(kind: TransformKind, count: number): number {
  const cores = Math.min(Math.max(os.availableParallelism(), 1), 4);
  const wanted = kind === 'normalize' ? cores : Math.max(4, cores);
  return Math.max(1, Math.min(wanted, Math.floor(count / MIN_ROWS_PER_SHARD)));
}

/** One shard: its global row ids and its graph's transform. */
export interface ShardPlan {
  readonly rows: Int32Array;
  readonly transform: IndexTransform;
}

/** Splits `norms2.length` rows into `shards` near-equal shards (see the module comment). */
export function planShards(kind: TransformKind, norms2: Float64Array, shards: number): ShardPlan[] {
  const count = norms2.length;
  const order = Int32Array.from({ length: count }, (_, i) => i);
  // Ties in norm keep row order, so plans are reproducible.
  if (kind === 'mips-l2')
    order.sort((a, b) => (norms2[a] as number) - (norms2[b] as number) || a - b);
  return Array.from({ length: shards }, (_, i) => {
    const rows = order.slice(
      Math.floor((i * count) / shards),
      Math.floor(((i + 1) * count) / shards),
    );
    if (kind === 'normalize') return { rows, transform: { kind } };
    let max = 0;
    for (const row of rows) max = Math.max(max, norms2[row] as number);
    return { rows, transform: { kind, maxNormSquared: max } };
  });
}
