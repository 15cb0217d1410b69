/**
 * Choosing the search-time ef at build time. The ef needed for a recall target
 * varied 8× across data distributions at the same N and D on this machine, and
 * grows with N, so no constant is safe: measure recall@k against exact top-k
 * on query embeddings and keep the smallest ef that reaches the target.
 */
import { performance } from 'node:perf_hooks';
import { PermanentError } from '../../errors.js';
import type { SearchHit, Searcher } from '../types.js';

/**
 * Default sweep, ascending: ann-performance.md §3.1's range (100–800) in
 * steps of at most 25%, so the chosen ef overshoots the smallest sufficient
 * one by less than that. With the old 1.5–2× steps the 1M sample catalogue
 * needed ef 250 but got 300 (+23% search time). Each step costs one pass of
 * the calibration queries (~0.3 s at N = 1M), and the sweep stops at the
 * first ef that meets the target.
 */
export const DEFAULT_EF_CANDIDATES: readonly number[] = [
  100, 125, 150, 175, 200, 250, 300, 350, 400, 500, 600, 700, 800,
];

/** One measured point of the sweep. */
export interface RecallPoint {
  readonly ef: number;
  /** Mean recall@k over the calibration queries. */
  readonly recall: number;
  /** Median single-query latency, re-scoring and shard merge included. */
  readonly p50_ms: number;
}

/** The calibration outcome stored in index.json. */
export interface RecallReport {
  readonly k: number;
  readonly target: number;
  readonly floor: number;
  readonly queries: number;
  /** Ascending ef; stops at the first ef meeting the target. */
  readonly sweep: readonly RecallPoint[];
  /** The ef the server sets. */
  readonly chosen: number;
  readonly recall: number;
  /** False when only the floor was met (then `chosen` is the largest ef). */
  readonly met_target: boolean;
}

/** What {@link calibrateEf} needs. */
export interface CalibrationInput {
  /** The approximate searcher whose ef is swept (an HnswSearcher). */
  readonly searcher: Searcher & { setEf(ef: number): void };
  /** queryCount × dim. */
  readonly queries: Float32Array;
  readonly queryCount: number;
  readonly dim: number;
  /** Exact top-k of each query (the ground truth), as from an exact searcher. */
  readonly truth: readonly SearchHit[];
  readonly k: number;
  readonly target: number;
  readonly floor: number;
  readonly efCandidates: readonly number[];
  /** Called after each ef is measured. */
  readonly onStep?: (done: number, total: number) => void;
}

/** The ef values to try: each raised to at least k (hnswlib needs ef ≥ k), deduplicated, ascending. */
export function efSweep(candidates: readonly number[], k: number): number[] {
  for (const ef of candidates) {
    if (!Number.isInteger(ef) || ef < 1)
      throw new RangeError(`ef candidates must be positive integers, got ${ef}`);
  }
  if (candidates.length === 0) throw new RangeError('at least one ef candidate is needed');
  return [...new Set(candidates.map((ef) => Math.max(ef, k)))].sort((a, b) => a - b);
}

/**
 * Sweeps ef ascending and returns the report, leaving the searcher set to the
 * chosen ef. Stops at the first ef with mean recall ≥ target (build time is on
 * the deployment's critical path); if none reaches it, keeps the largest ef
 * provided it reaches the floor.
 * @throws PermanentError `INDEX.RECALL_TOO_LOW` naming the best recall reached
 *   when even the largest ef stays below the floor.
 */
export function calibrateEf(input: CalibrationInput): RecallReport {
  const { searcher, queries, queryCount, dim, truth, k } = input;
  const sweepEfs = efSweep(input.efCandidates, k);
  const sweep: RecallPoint[] = [];
  let recall = 0;
  for (const ef of sweepEfs) {
    searcher.setEf(ef);
    const latencies: number[] = [];
    let recallSum = 0;
    for (let q = 0; q < queryCount; q++) {
      const started = performance.now();
      const [hit] = searcher.search(queries.subarray(q * dim, (q + 1) * dim), 1, k);
      latencies.push(performance.now() - started);
      recallSum += recallOf(hit, truth[q]);
    }
    recall = recallSum / Math.max(queryCount, 1);
    // Rounded for the report only (down, so a stored 0.96 never overstates).
    sweep.push({
      ef,
      recall: Math.floor(recall * 1e5) / 1e5,
      p50_ms: Math.round(median(latencies) * 1e3) / 1e3,
    });
    input.onStep?.(sweep.length, sweepEfs.length);
    if (recall >= input.target) break;
  }
  const last = sweep[sweep.length - 1] as RecallPoint;
  const metTarget = recall >= input.target;
  if (!metTarget && recall < input.floor) {
    throw new PermanentError(
      'INDEX.RECALL_TOO_LOW',
      `HNSW recall@${k} reached at most ${last.recall.toFixed(4)} (ef=${last.ef}), below the floor ` +
        `${input.floor} (target ${input.target}); raise M (e.g. 48), allow a larger ef, or serve in exact mode`,
      {
        metadata: {
          best_recall: last.recall,
          ef: last.ef,
          floor: input.floor,
          target: input.target,
          k,
        },
      },
    );
  }
  searcher.setEf(last.ef);
  return {
    k,
    target: input.target,
    floor: input.floor,
    queries: queryCount,
    sweep,
    chosen: last.ef,
    recall: last.recall,
    met_target: metTarget,
  };
}

/** |approx ∩ exact| / |exact|: the fraction of the true top-k that was found. */
export function recallOf(approx: SearchHit | undefined, exact: SearchHit | undefined): number {
  if (!exact || exact.rows.length === 0) return 1;
  if (!approx) return 0;
  const found = new Set(approx.rows);
  let hits = 0;
  for (const row of exact.rows) if (found.has(row)) hits++;
  return hits / exact.rows.length;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
