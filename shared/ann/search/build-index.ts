/**
 * `buildIndex`: candidates → a calibrated HNSW index directory. The CLI's
 * `build-index` and the deploy step both call it.
 *
 * Steps: choose the transform from the candidate norms; plan the shards
 * (shard-plan.ts) and build their graphs in worker threads; reopen them from disk (so what is calibrated is
 * what will be served); compute exact top-k for the calibration queries;
 * sweep ef; write index.json; publish the directory atomically.
 */
import { performance } from 'node:perf_hooks';
import type { SearchHit } from '../types.js';
import { commitStagingDir, createStagingDir, discardStagingDir } from './atomic-dir.js';
import { calibrateEf } from './calibration.js';
import { candidatesSha256 } from './checksum.js';
import { createExactSearcher, type ExactSearcher } from './exact-searcher.js';
import { openShards } from './hnsw-index.js';
import { HnswSearcher } from './hnsw-searcher.js';
import {
  hnswlibNodeVersion,
  INDEX_FORMAT_VERSION,
  writeIndexManifest,
  type IndexManifest,
} from './index-files.js';
import { checkBuildOptions, type BuildIndexOptions, type BuildProgress } from './build-options.js';
import { buildShards } from './shard-build.js';
import { defaultShards, planShards } from './shard-plan.js';
import { chooseTransformKind, spaceOf, squaredNorms } from './vector-space.js';

export type { BuildIndexOptions, BuildPhase, BuildProgress } from './build-options.js';
export { BUILD_DEFAULTS } from './build-options.js';

/** Calibration queries per exact-search call: keeps progress moving on big catalogues. */
const TRUTH_SLICE = 50;

/**
 * Builds, calibrates and writes the index; returns its manifest (with the
 * recall report). Nothing appears at `outDir` unless everything succeeded.
 * @throws PermanentError `INDEX.RECALL_TOO_LOW` when the largest ef misses
 *   the floor; RangeError on invalid options.
 */
export async function buildIndex(
  options: BuildIndexOptions & {
    /** The bundle's declared training run (its fingerprint), recorded in index.json. */
    readonly trainingRunId?: string | undefined;
  },
): Promise<IndexManifest> {
  const started = performance.now();
  const settings = checkBuildOptions(options);
  const { candidates } = options;
  const progress = options.onProgress ?? (() => undefined);
  const norms2 = squaredNorms(candidates);
  const kind = chooseTransformKind(norms2);
  const staging = await createStagingDir(options.outDir);
  try {
    const shards = await buildShards({
      candidates,
      plan: planShards(
        kind,
        norms2,
        Math.min(settings.shards ?? defaultShards(kind, candidates.count), candidates.count),
      ),
      m: settings.m,
      efConstruction: settings.efConstruction,
      seed: settings.seed,
      dir: staging,
      onInserted: (done) => progress({ phase: 'build', done, total: candidates.count }),
    });
    const fields = { transform: kind, dim: candidates.dim, shards };
    progress({ phase: 'load', done: 0, total: shards.length });
    const loaded = await openShards(staging, fields);
    progress({ phase: 'load', done: shards.length, total: shards.length });
    const searcher = new HnswSearcher(loaded, kind, candidates, settings.k);

    const queryCount = options.calibrationQueries.length / candidates.dim;
    const truth = await groundTruth(options, settings.k, progress);

    const recall = calibrateEf({
      searcher,
      queries: options.calibrationQueries,
      queryCount,
      dim: candidates.dim,
      truth,
      k: settings.k,
      target: settings.recallTarget,
      floor: settings.recallFloor,
      efCandidates: settings.efCandidates,
      onStep: (done, total) => progress({ phase: 'calibrate', done, total }),
    });

    progress({ phase: 'write', done: 0, total: 1 });
    const manifest: IndexManifest = {
      format_version: INDEX_FORMAT_VERSION,
      space: spaceOf(kind),
      ...fields,
      m: settings.m,
      ef_construction: settings.efConstruction,
      ef: recall.chosen,
      k: settings.k,
      count: candidates.count,
      candidates_sha256: candidatesSha256(candidates),
      ...(options.trainingRunId === undefined ? {} : { training_run_id: options.trainingRunId }),
      built_at: new Date().toISOString(),
      build_seconds: Math.round(performance.now() - started) / 1000,
      hnswlib_node_version: hnswlibNodeVersion(),
      recall,
    };
    await writeIndexManifest(staging, manifest);
    await commitStagingDir(staging, options.outDir);
    progress({ phase: 'write', done: 1, total: 1 });
    return manifest;
  } catch (error) {
    await discardStagingDir(staging);
    throw error;
  }
}

/** Exact top-k of every calibration query, in slices so progress moves. */
async function groundTruth(
  options: BuildIndexOptions,
  k: number,
  progress: (p: BuildProgress) => void,
): Promise<SearchHit[]> {
  const { candidates, calibrationQueries } = options;
  let owned: ExactSearcher | undefined;
  const exact = options.exactSearcher ?? (owned = await createExactSearcher(candidates));
  const dim = candidates.dim;
  const total = calibrationQueries.length / dim;
  const truth: SearchHit[] = [];
  try {
    for (let q = 0; q < total; q += TRUTH_SLICE) {
      const n = Math.min(TRUTH_SLICE, total - q);
      truth.push(...exact.search(calibrationQueries.subarray(q * dim, (q + n) * dim), n, k));
      progress({ phase: 'ground-truth', done: q + n, total });
    }
  } finally {
    owned?.dispose();
  }
  return truth;
}
