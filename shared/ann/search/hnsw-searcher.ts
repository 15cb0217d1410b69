import type { CandidateMatrix, SearchHit, Searcher } from '../types.js';
import type { HnswGraph } from './hnsw-graph.js';
import { effectiveK } from './search-args.js';
import { TopK } from './top-k.js';
import { graphDim, queryPoint, type TransformKind } from './vector-space.js';

/** A loaded shard graph and how many rows it holds. */
export interface LoadedShard {
  readonly graph: HnswGraph;
  readonly count: number;
}

/**
 * Approximate top-k over one or more HNSW graphs (one per shard).
 *
 * Each graph ranks by its own space (see vector-space.ts), never by the score
 * callers see: every hit is re-scored against the raw candidate vector and
 * the union over shards is cut to k by that true dot product (score
 * descending, lower row first on ties). hnswlib returns hits in ascending
 * distance, which is why the order is rebuilt here rather than trusted.
 * `searchKnn` is synchronous and blocks for its duration (0.1–2 ms).
 */
export class HnswSearcher implements Searcher {
  readonly mode = 'ann' as const;
  private readonly point: number[];
  private currentEf: number;

  constructor(
    private readonly shards: readonly LoadedShard[],
    private readonly kind: TransformKind,
    private readonly candidates: CandidateMatrix,
    ef: number,
  ) {
    this.point = new Array<number>(graphDim(kind, candidates.dim)).fill(0);
    this.currentEf = ef;
    this.setEf(ef);
  }

  /** The search-time candidate list size in use (hnswlib uses max(ef, k)). */
  get ef(): number {
    return this.currentEf;
  }

  /** Changes ef on every shard; calibration sweeps it, serving sets it once. */
  setEf(ef: number): void {
    if (!Number.isInteger(ef) || ef < 1)
      throw new RangeError(`ef must be a positive integer, got ${ef}`);
    for (const shard of this.shards) shard.graph.setEf(ef);
    this.currentEf = ef;
  }

  search(queries: Float32Array, queryCount: number, k: number): SearchHit[] {
    const { dim, count } = this.candidates;
    const kept = effectiveK(queries, queryCount, dim, count, k);
    const heap = new TopK(Math.max(kept, 1));
    const hits: SearchHit[] = [];
    for (let q = 0; q < queryCount; q++) {
      heap.clear();
      queryPoint(this.kind, queries, q, dim, this.point);
      for (const shard of this.shards) {
        const n = Math.min(kept, shard.count);
        if (n === 0) continue;
        const rows = shard.graph.searchKnn(this.point, n).neighbors;
        pushRescored(heap, rows, 0, rows.length, this.candidates, queries, q);
      }
      hits.push(heap.toHit());
    }
    return hits;
  }
}

/**
 * Offers rows[from, to) to `heap`, each scored by its true dot product with
 * query `q` (the score callers see, whatever space the graph ranks by);
 * negative rows (no hit) are skipped. Shared by every HNSW searcher so their
 * merges agree exactly.
 */
export function pushRescored(
  heap: TopK,
  rows: ArrayLike<number>,
  from: number,
  to: number,
  candidates: CandidateMatrix,
  queries: Float32Array,
  q: number,
): void {
  const { vectors, dim } = candidates;
  const off = q * dim;
  for (let i = from; i < to; i++) {
    const row = rows[i] as number;
    if (row < 0) continue;
    let score = 0;
    const base = row * dim;
    for (let d = 0; d < dim; d++)
      score += (vectors[base + d] as number) * (queries[off + d] as number);
    heap.push(row, score);
  }
}
