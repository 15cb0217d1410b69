/**
 * Opening a built index: `loadHnswSearcher` (graphs searched on the calling
 * thread) and `loadParallelHnswSearcher` (one thread per shard, at once) for
 * servers, `openShards` for the builder's own calibration. Loading uses
 * hnswlib's async `readIndex`, which runs on the libuv pool, so a server's
 * health endpoint stays responsive.
 */
import path from 'node:path';
import { PermanentError } from '../../errors.js';
import type { CandidateMatrix } from '../types.js';
import { candidatesSha256 } from './checksum.js';
import { HnswSearcher, type LoadedShard } from './hnsw-searcher.js';
import { readIndexManifest, resolveIndexDir, type IndexManifest } from './index-files.js';
import { openShardGraph } from './open-shard-graph.js';
import { ParallelHnswSearcher, type ParallelHnswOptions } from './parallel-hnsw-searcher.js';

/** A loaded index: a Searcher plus the calibrated ef and the manifest it came from. */
export type LoadedHnswSearcher = HnswSearcher & { readonly params: IndexManifest };

/** A loaded index searched on one thread per shard, with the manifest it came from. */
export type LoadedParallelHnswSearcher = ParallelHnswSearcher & { readonly params: IndexManifest };

/** Options for {@link loadHnswSearcher}. */
export interface LoadHnswOptions {
  /**
   * sha256 of the candidates if the caller already has it (e.g. from the
   * bundle reader); skips hashing them again (~0.1 s per 100 MB).
   */
  readonly candidatesSha256?: string;
  /**
   * The training run the bundle declares (its fingerprint), named in the
   * error when the index was built from another run's embeddings.
   */
  readonly trainingRunId?: string | undefined;
}

/** Options for {@link loadParallelHnswSearcher}. */
export interface LoadParallelHnswOptions extends LoadHnswOptions, ParallelHnswOptions {}

/**
 * Loads the index for `candidates` from a bundle directory, its `ann/`
 * directory or the index directory, with ef set to the calibrated value.
 * @throws PermanentError `INDEX.NOT_FOUND` (no index.json), `INDEX.INVALID`
 *   (bad manifest, missing or unreadable graph), `INDEX.MISMATCH` (built
 *   for other embeddings: count, dim or checksum differ; the message names
 *   the training runs of both sides).
 */
export async function loadHnswSearcher(
  dir: string,
  candidates: CandidateMatrix,
  options: LoadHnswOptions = {},
): Promise<LoadedHnswSearcher> {
  const { indexDir, manifest } = await openIndex(dir, candidates, options);
  const shards = await openShards(indexDir, manifest);
  const searcher = new HnswSearcher(shards, manifest.transform, candidates, manifest.ef);
  return Object.assign(searcher, { params: manifest });
}

/**
 * As {@link loadHnswSearcher}, with the same checks and errors, but the
 * shards are searched at once (ParallelHnswSearcher): this thread loads and
 * searches the first, a worker thread of its own each other one. Dispose it
 * to stop the threads.
 */
export async function loadParallelHnswSearcher(
  dir: string,
  candidates: CandidateMatrix,
  options: LoadParallelHnswOptions = {},
): Promise<LoadedParallelHnswSearcher> {
  const { indexDir, manifest } = await openIndex(dir, candidates, options);
  const searcher = await ParallelHnswSearcher.start(indexDir, manifest, candidates, options);
  return Object.assign(searcher, { params: manifest });
}

/**
 * Reads every shard graph listed in `manifest` from `indexDir` and checks
 * each holds the rows and dimension the manifest says.
 */
export async function openShards(
  indexDir: string,
  manifest: Pick<IndexManifest, 'shards' | 'dim' | 'transform'>,
): Promise<LoadedShard[]> {
  return Promise.all(
    manifest.shards.map(async (shard) => ({
      graph: await openShardGraph({
        file: path.join(indexDir, shard.file),
        transform: manifest.transform,
        dim: manifest.dim,
        count: shard.count,
      }),
      count: shard.count,
    })),
  );
}

/** Finds and reads index.json and checks it was built for `candidates` (count, dim, sha256). */
async function openIndex(
  dir: string,
  candidates: CandidateMatrix,
  options: LoadHnswOptions,
): Promise<{ indexDir: string; manifest: IndexManifest }> {
  const indexDir = await resolveIndexDir(dir);
  const manifest = await readIndexManifest(indexDir);
  for (const key of ['count', 'dim'] as const) {
    if (manifest[key] !== candidates[key]) {
      throw mismatch(
        indexDir,
        `${key} ${manifest[key]} differs from the candidates' ${candidates[key]}`,
      );
    }
  }
  const sha256 = options.candidatesSha256 ?? candidatesSha256(candidates);
  if (sha256 !== manifest.candidates_sha256) {
    throw mismatch(
      indexDir,
      `was built from the embeddings of ${runName(manifest.training_run_id)} ` +
        `(candidates sha256 ${manifest.candidates_sha256}), but this bundle's are ` +
        `${runName(options.trainingRunId)}'s (sha256 ${sha256}); ` +
        `rebuild it: recdeploy build-index ${bundleDirOf(indexDir)}`,
    );
  }
  return { indexDir, manifest };
}

function runName(trainingRunId: string | undefined): string {
  return trainingRunId === undefined ? 'an unnamed training run' : `training run ${trainingRunId}`;
}

/**
 * The directory `recdeploy build-index` takes for this index: the artifact
 * directory above `ann/index`, the directory holding `index/`, else (an index
 * directory elsewhere) a placeholder.
 */
function bundleDirOf(indexDir: string): string {
  if (path.basename(indexDir) !== 'index') return '<the bundle>';
  const parent = path.dirname(indexDir);
  return path.basename(parent) === 'ann' ? path.dirname(parent) : parent;
}

function mismatch(indexDir: string, problem: string): PermanentError {
  return new PermanentError('INDEX.MISMATCH', `index in ${indexDir} ${problem}`, {
    metadata: { index_dir: indexDir },
  });
}
