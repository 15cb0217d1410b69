/**
 * The ANN index stored next to a bundle (`{artifactUri}/ann/index/`, DESIGN.md
 * §5): built once at deploy time, in the deploy function when it fits the
 * function's time limit, else by the index-build job, and only loaded by the
 * serving instances. The heavy parts (TF.js, hnswlib) are imported when a build
 * actually runs, so checking the status or estimating a build stays cheap.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PermanentError, toRecdeployError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import type { Logger } from '../logging/logger.port.js';
import type { ArtifactStore } from '../ports/artifact-store.port.js';
import type { BuildProgress, IndexManifest } from '../ann/index.js';
import { ANN_DIR, BUNDLE_FILES } from '../ann/bundle/bundle-files.js';
import { bundleManifestProblem, type Manifest } from '../ann/bundle/manifest.js';
import { INDEX_MANIFEST } from '../ann/search/index-files.js';
import { manifestProblem } from '../ann/search/manifest-check.js';
import type { StoredIndexes } from './chain-deps.js';

/** Where the index lives below the artifact URI. */
export const STORED_INDEX_PATH = `${ANN_DIR}/index`;

export type StoredIndexStatus = 'present' | 'absent' | 'stale';

/** The catalogue an index build works on. */
export interface BundleSize {
  readonly count: number;
  readonly dim: number;
}

export interface BuildStoredIndexOptions {
  readonly artifacts: ArtifactStore;
  /** The pushed model directory holding `ann/`. */
  readonly artifactUri: string;
  readonly logger: Logger;
  readonly onProgress?: (progress: BuildProgress) => void;
}

/**
 * Builds the bundle's index and stores it at `{artifactUri}/ann/index/`, or
 * reuses the stored one when it was built from these very candidates
 * (count, dim and candidates_sha256 match). Builds with the defaults of
 * `recdeploy build-index` (BUILD_DEFAULTS, DEFAULT_CALIBRATION_QUERIES), in a
 * temporary directory, then hands it to `artifacts.putDirectory`, which
 * publishes it so readers never see half an index.
 * @throws PermanentError `BUNDLE.INVALID`, `ARTIFACT.*`, `INDEX.RECALL_TOO_LOW`.
 */
export async function buildStoredIndex(options: BuildStoredIndexOptions): Promise<IndexManifest> {
  const { artifacts, logger } = options;
  const base = bundleBase(artifacts, options.artifactUri);
  const indexUri = `${base}/${STORED_INDEX_PATH}`;
  const log = logger.child({ artifactUri: base });
  const ann = await import('../ann/index.js');
  const bundleDir = await artifacts.openDirectory(base, ANN_DIR);
  try {
    const bundle = await ann.readBundle(bundleDir.path);
    const candidates = { ...bundle.candidates, sha256: ann.candidatesSha256(bundle.candidates) };
    const stored = await reusableIndex(ann, path.join(bundle.dir, 'index'), candidates);
    if ('index' in stored) {
      const { count, dim, ef } = stored.index;
      log.info('stored index reused', { count, dim, ef });
      return stored.index;
    }
    log.info('building index', { reason: stored.reason, count: bundle.candidates.count });
    const encoder = await ann.loadQueryEncoder(bundle);
    let queries: Float32Array;
    try {
      queries = ann.calibrationQueries(bundle, encoder, ann.DEFAULT_CALIBRATION_QUERIES);
    } finally {
      encoder.dispose();
    }
    const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'recdeploy-index-'));
    try {
      const outDir = path.join(scratch, 'index');
      const manifest = await ann.buildIndex({
        candidates: bundle.candidates,
        calibrationQueries: queries,
        outDir,
        trainingRunId: ann.declaredTrainingRunId(bundle.manifest),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      await failpoint('deploy.during-index-build');
      await artifacts.putDirectory(outDir, indexUri);
      log.info('index stored', {
        indexUri,
        ef: manifest.ef,
        recall: manifest.recall.recall,
        buildSeconds: manifest.build_seconds,
      });
      return manifest;
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
  } finally {
    await bundleDir.release();
  }
}

/**
 * Whether a usable index is stored: `absent` (no index.json), `stale` (an
 * invalid index.json, or one for another count or dim of candidates) or
 * `present`. Two small files are read (index.json, manifest.json), never the
 * catalogue: whether the index was built from these very embeddings is the
 * server's check when it loads it (INDEX.MISMATCH naming both runs), the
 * same locally and on Cloud Run.
 */
export async function storedIndexStatus(
  artifacts: ArtifactStore,
  artifactUri: string,
): Promise<StoredIndexStatus> {
  const base = bundleBase(artifacts, artifactUri);
  let text: string;
  try {
    text = await artifacts.readText(`${base}/${STORED_INDEX_PATH}/${INDEX_MANIFEST}`);
  } catch (error) {
    if (toRecdeployError(error).code === 'ARTIFACT.NOT_FOUND') return 'absent';
    throw error;
  }
  const index = parseIndexManifest(text);
  if (index === undefined) return 'stale';
  const size = await bundleSize(artifacts, base);
  return staleReason(index, size) === undefined ? 'present' : 'stale';
}

/**
 * The catalogue size from `ann/manifest.json` alone (candidate_count,
 * embedding_dim), without reading a million vectors; readBundle later checks
 * candidates.f32 and product_ids.json against these numbers.
 * @throws PermanentError `ARTIFACT.NOT_FOUND` (no manifest), `BUNDLE.INVALID`.
 */
export async function bundleSize(
  artifacts: ArtifactStore,
  artifactUri: string,
): Promise<BundleSize> {
  const uri = `${bundleBase(artifacts, artifactUri)}/${ANN_DIR}/${BUNDLE_FILES.manifest}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await artifacts.readText(uri));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw invalidManifest(uri, `not valid JSON (${error.message})`);
  }
  const problem = bundleManifestProblem(parsed);
  if (problem) throw invalidManifest(uri, problem);
  const manifest = parsed as Manifest;
  return { count: manifest.candidate_count, dim: manifest.embedding_dim };
}

/** Measured build: 100k × 64 dims took 7.2 s and 1M × 64 took 180.4 s on 2 cores (docs/performance.md). */
const MEASURED = { count: 100_000, dim: 64, seconds: 7.2, cores: 2 } as const;
/** log10(180.4 / 7.2): the time grows like count^1.4 between the two measurements. */
const COUNT_EXPONENT = Math.log10(180.4 / 7.2);
/** 1M took 7–10 min on one core (ann-performance.md §3.2); the upper end over the 2-core 180.4 s. */
const ONE_CORE_FACTOR = 600 / 180.4;
/** Graphs are built in at most four worker threads (shard-plan.ts), so more cores do not help. */
const MAX_BUILD_THREADS = 4;
/** Loading TF.js and the query model, starting workers: not in the table, a rough allowance. */
const STARTUP_SECONDS = 3;

/**
 * Expected seconds to build an index for `count` × `dim` candidates on
 * `cores` cores, scaled from the measurements above: count^1.4, linear in
 * dim (distance computations), halved per doubling of cores up to four, and
 * ×3.3 on a single core. An estimate: callers deciding between the function
 * and a job should keep a margin below their time limit.
 */
export function estimateIndexBuildSeconds(count: number, dim: number, cores: number): number {
  for (const [name, value] of [
    ['count', count],
    ['dim', dim],
    ['cores', cores],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `estimateIndexBuildSeconds: ${name} must be a positive integer, got ${value}`,
      );
    }
  }
  const coreFactor =
    cores === 1 ? ONE_CORE_FACTOR : MEASURED.cores / Math.min(cores, MAX_BUILD_THREADS);
  const scaled =
    MEASURED.seconds *
    (count / MEASURED.count) ** COUNT_EXPONENT *
    (dim / MEASURED.dim) *
    coreFactor;
  // Rounded to milliseconds first, so float noise (603.0000000000001) does not add a second.
  return Math.ceil(Math.round((STARTUP_SECONDS + scaled) * 1000) / 1000);
}

/** The StoredIndexes the deploy step uses (chain-deps.ts), over one ArtifactStore. */
export function createStoredIndexes(options: {
  readonly artifacts: ArtifactStore;
  readonly logger: Logger;
  /** Cores a build here may use; default os.availableParallelism(). */
  readonly cores?: number;
}): StoredIndexes {
  const { artifacts, logger } = options;
  return {
    // An index pushed from another run's embeddings must fail the revision
    // loudly (INDEX.MISMATCH naming both runs), not be rebuilt silently here.
    status: (artifactUri) => storedIndexStatus(artifacts, artifactUri),
    estimateBuildSeconds: async (artifactUri) => {
      const { count, dim } = await bundleSize(artifacts, artifactUri);
      return estimateIndexBuildSeconds(count, dim, options.cores ?? os.availableParallelism());
    },
    buildInline: async (artifactUri) => {
      await buildStoredIndex({ artifacts, artifactUri, logger });
    },
  };
}

/** The artifact URI in the store's normal form, without a trailing slash. */
function bundleBase(artifacts: ArtifactStore, artifactUri: string): string {
  return artifacts.checkUri(artifactUri).replace(/\/+$/, '');
}

/** The index already in the bundle's `ann/index/` if it fits these candidates, else why not. */
async function reusableIndex(
  ann: typeof import('../ann/index.js'),
  indexDir: string,
  candidates: BundleSize & { readonly sha256: string },
): Promise<{ readonly index: IndexManifest } | { readonly reason: string }> {
  const exists = await fs.stat(path.join(indexDir, INDEX_MANIFEST)).then(
    () => true,
    () => false,
  );
  if (!exists) return { reason: 'no index stored yet' };
  try {
    const index = await ann.readIndexManifest(indexDir);
    const reason = staleReason(index, candidates);
    return reason === undefined ? { index } : { reason };
  } catch (error) {
    return { reason: toRecdeployError(error).message };
  }
}

/** Why `index` does not fit these candidates, or undefined when it does. */
function staleReason(
  index: IndexManifest,
  candidates: BundleSize & { readonly sha256?: string },
): string | undefined {
  if (index.count !== candidates.count || index.dim !== candidates.dim) {
    return `index is for ${index.count} × ${index.dim} candidates, the bundle has ${candidates.count} × ${candidates.dim}`;
  }
  if (candidates.sha256 !== undefined && index.candidates_sha256 !== candidates.sha256) {
    return `index was built from candidates with sha256 ${index.candidates_sha256}, the bundle's is ${candidates.sha256}`;
  }
  return undefined;
}

function parseIndexManifest(text: string): IndexManifest | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return manifestProblem(parsed) === undefined ? (parsed as IndexManifest) : undefined;
  } catch {
    return undefined;
  }
}

function invalidManifest(uri: string, problem: string): PermanentError {
  return new PermanentError('BUNDLE.INVALID', `${uri}: ${problem}`, { metadata: { uri } });
}
