/**
 * Opening a built index: `loadHnswSearcher` for servers, `openShards` for the
 * builder's own calibration. Loading uses hnswlib's async `readIndex`, which
 * runs on the libuv pool, so a server's health endpoint stays responsive.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../errors.js';
import type { CandidateMatrix } from '../types.js';
import { candidatesSha256 } from './checksum.js';
import { emptyGraph } from './hnsw-graph.js';
import { HnswSearcher, type LoadedShard } from './hnsw-searcher.js';
import { readIndexManifest, resolveIndexDir, type IndexManifest } from './index-files.js';

/** A loaded index: a Searcher plus the calibrated ef and the manifest it came from. */
export type LoadedHnswSearcher = HnswSearcher & { readonly params: IndexManifest };

/** Options for {@link loadHnswSearcher}. */
export interface LoadHnswOptions {
  /**
   * sha256 of the candidates if the caller already has it (e.g. from the
   * bundle reader); skips hashing them again (~0.1 s per 100 MB).
   */
  readonly candidatesSha256?: string;
}

/**
 * Loads the index for `candidates` from a bundle directory, its `ann/`
 * directory or the index directory, with ef set to the calibrated value.
 * @throws PermanentError `INDEX.NOT_FOUND` (no index.json), `INDEX.INVALID`
 *   (bad manifest, missing or unreadable graph), `INDEX.MISMATCH` (built
 *   for other embeddings: count, dim or checksum differ).
 */
export async function loadHnswSearcher(
  dir: string,
  candidates: CandidateMatrix,
  options: LoadHnswOptions = {},
): Promise<LoadedHnswSearcher> {
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
      `built for candidates with sha256 ${manifest.candidates_sha256}, these have ${sha256}; rebuild the index`,
    );
  }
  const shards = await openShards(indexDir, manifest);
  const searcher = new HnswSearcher(shards, manifest.transform, candidates, manifest.ef);
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
    manifest.shards.map(async (shard) => {
      const file = path.join(indexDir, shard.file);
      const size = await fs.stat(file).then(
        (s) => s.size,
        () => 0,
      );
      if (size === 0) throw invalidGraph(file, 'is missing or empty');
      // A graph of another dimension or space fails hnswlib's own size checks here.
      const graph = emptyGraph(manifest.transform, manifest.dim);
      try {
        await graph.readIndex(file);
      } catch (error) {
        throw invalidGraph(file, `cannot be read by hnswlib (${(error as Error).message})`, error);
      }
      if (graph.getCurrentCount() !== shard.count) {
        throw invalidGraph(
          file,
          `holds ${graph.getCurrentCount()} rows, the manifest says ${shard.count}`,
        );
      }
      return { graph, count: shard.count };
    }),
  );
}

function mismatch(indexDir: string, problem: string): PermanentError {
  return new PermanentError('INDEX.MISMATCH', `index in ${indexDir} ${problem}`, {
    metadata: { index_dir: indexDir },
  });
}

function invalidGraph(file: string, problem: string, cause?: unknown): PermanentError {
  return new PermanentError('INDEX.INVALID', `graph file ${file} ${problem}`, {
    cause,
    metadata: { file },
  });
}
