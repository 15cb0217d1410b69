/** Options of `buildIndex`, their defaults and their validation. */
import type { CandidateMatrix, Searcher } from '../types.js';
import { DEFAULT_EF_CANDIDATES } from './calibration.js';

/**
 * Defaults: recall target and floor, M and efConstruction from
 * ann-performance.md §3.1; shards are chosen per transform (shard-plan.ts).
 */
export const BUILD_DEFAULTS = {
  k: 100,
  recallTarget: 0.96,
  recallFloor: 0.95,
  m: 32,
  efConstruction: 200,
  seed: 100,
} as const;

/** A step of the build, for progress display. */
export type BuildPhase = 'build' | 'load' | 'ground-truth' | 'calibrate' | 'write';

/** Progress: `done` of `total` units of the current phase (rows, graphs, queries, ef values). */
export interface BuildProgress {
  readonly phase: BuildPhase;
  readonly done: number;
  readonly total: number;
}

/** Options for `buildIndex`. */
export interface BuildIndexOptions {
  readonly candidates: CandidateMatrix;
  /** Calibration queries, count × D: real query-tower embeddings (see calibrationQueries). */
  readonly calibrationQueries: Float32Array;
  /** The index directory to (re)place, normally `<bundle>/ann/index`. */
  readonly outDir: string;
  /** Neighbours per query the recall is calibrated for (capped at N). Default 100. */
  readonly k?: number;
  /** Mean recall@k the chosen ef must reach. Default 0.96. */
  readonly recallTarget?: number;
  /** Below this even at the largest ef, the build fails. Default 0.95. */
  readonly recallFloor?: number;
  /** hnswlib M (links per node). Default 32. */
  readonly M?: number;
  /** hnswlib efConstruction. Default 200; 100 halves build time for ~0.01 recall. */
  readonly efConstruction?: number;
  /** Search-time ef values to try; raised to ≥ k. Default 100 to 800 in steps of ≤ 25% (DEFAULT_EF_CANDIDATES). */
  readonly efCandidates?: readonly number[];
  /** Graphs built in parallel worker threads and merged at query time. Default: see `defaultShards`. */
  readonly shards?: number;
  /** Base random seed of the graphs (shard i uses seed + i), for reproducible builds. */
  readonly seed?: number;
  readonly onProgress?: (progress: BuildProgress) => void;
  /** Ground-truth searcher; default `createExactSearcher(candidates)`. */
  readonly exactSearcher?: Searcher;
}

/** Resolved settings; `shards` stays undefined when the caller left it to the default. */
export type BuildSettings = ReturnType<typeof checkBuildOptions>;

/** Validates options and fills defaults. @throws RangeError listing every problem. */
export function checkBuildOptions(options: BuildIndexOptions) {
  const { candidates, calibrationQueries } = options;
  const k = options.k ?? BUILD_DEFAULTS.k;
  const settings = {
    k: Math.min(k, candidates.count),
    recallTarget: options.recallTarget ?? BUILD_DEFAULTS.recallTarget,
    recallFloor: options.recallFloor ?? BUILD_DEFAULTS.recallFloor,
    m: options.M ?? BUILD_DEFAULTS.m,
    efConstruction: options.efConstruction ?? BUILD_DEFAULTS.efConstruction,
    efCandidates: options.efCandidates ?? DEFAULT_EF_CANDIDATES,
    shards: options.shards,
    seed: options.seed ?? BUILD_DEFAULTS.seed,
  };
  const problems: string[] = [];
  const positiveInt = (name: string, value: number | undefined, min = 1) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
      problems.push(`${name} must be an integer ≥ ${min}, got ${value}`);
    }
  };
  if (candidates.count < 1 || candidates.dim < 1)
    problems.push('candidates must hold at least one row');
  if (candidates.vectors.length < candidates.count * candidates.dim) {
    problems.push(`candidates hold ${candidates.vectors.length} floats, fewer than count × dim`);
  }
  const dim = Math.max(candidates.dim, 1);
  if (calibrationQueries.length === 0 || calibrationQueries.length % dim !== 0) {
    problems.push(`calibrationQueries must hold a positive whole number of ${dim}-float queries`);
  }
  positiveInt('k', k);
  positiveInt('M', settings.m, 2);
  positiveInt('efConstruction', settings.efConstruction);
  positiveInt('shards', settings.shards);
  positiveInt('seed', settings.seed, 0);
  for (const [name, value] of [
    ['recallTarget', settings.recallTarget],
    ['recallFloor', settings.recallFloor],
  ] as const) {
    if (!(value > 0 && value <= 1)) problems.push(`${name} must be in (0, 1], got ${value}`);
  }
  if (settings.recallFloor > settings.recallTarget)
    problems.push('recallFloor must not exceed recallTarget');
  if (problems.length > 0)
    throw new RangeError(`invalid index build options: ${problems.join('; ')}`);
  return settings;
}
