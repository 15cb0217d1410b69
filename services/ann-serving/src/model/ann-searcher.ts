/**
 * The searcher for SERVING_MODE=ann: the bundle's prebuilt HNSW index
 * (`ann/index/`, written by `recdeploy build-index` or the deploy step).
 * Without one the server still starts, by building an index in a temporary
 * directory, but says so loudly: that build is on the start-up path (seconds
 * to minutes) and is repeated by every instance on every start.
 *
 * SEARCH_THREADS=auto (the default) searches an index of S ≥ 2 shards on S
 * threads at once (ParallelHnswSearcher): the main thread searches the first
 * shard while one worker thread per other shard searches the rest. With one
 * shard, or SEARCH_THREADS=0, every shard is searched on the main thread. A start-up
 * build is served the same way: the workers read the graphs from the
 * temporary directory before it is deleted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '@recdeploy/shared';
import {
  buildIndex,
  calibrationQueries,
  loadHnswSearcher,
  loadParallelHnswSearcher,
  readIndexManifest,
  resolveIndexDir,
  type AsyncSearcher,
  type LoadHnswOptions,
  type ModelBundle,
  type QueryEncoder,
  type Searcher,
} from '@recdeploy/shared/ann';
import type { SearchThreads } from '../config/serving-config.js';

/** The loaded index and how it is searched. */
export interface AnnSearcher {
  readonly searcher: Searcher | AsyncSearcher;
  /** Threads one search runs on: the shard count in parallel, 1 on the main thread alone. */
  readonly threads: number;
}

/** Loads the bundle's index, or builds one (with a warning) when it has none. */
export async function loadAnnSearcher(
  bundle: ModelBundle,
  encoder: QueryEncoder,
  searchThreads: SearchThreads,
  logger: Logger,
  check: LoadHnswOptions = {},
): Promise<AnnSearcher> {
  const indexDir = await resolveIndexDir(bundle.dir).catch((error: unknown) => {
    if ((error as { code?: unknown }).code !== 'INDEX.NOT_FOUND') throw error;
    return undefined;
  });
  if (indexDir !== undefined) return loadIndex(indexDir, bundle, searchThreads, logger, check);
  logger.warn(
    'NO PREBUILT HNSW INDEX IN THE BUNDLE: building one now, on the start-up path. ' +
      'Every instance repeats this on every start; run `recdeploy build-index` on the bundle ' +
      '(the deploy step does) so servers only load it.',
    { bundle: bundle.dir, candidates: bundle.candidates.count },
  );
  const started = performance.now();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'ann-serving-index-'));
  const outDir = path.join(workDir, 'index');
  try {
    const params = await buildIndex({
      candidates: bundle.candidates,
      calibrationQueries: calibrationQueries(bundle, encoder),
      outDir,
      trainingRunId: check.trainingRunId,
    });
    logger.warn('HNSW index built at start-up', {
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      ef: params.ef,
      recallAtK: params.recall.recall,
      k: params.recall.k,
    });
    return await loadIndex(outDir, bundle, searchThreads, logger, check);
  } finally {
    // The graphs are in memory once loaded; on Cloud Run /tmp is memory too, so drop the files.
    await rm(workDir, { recursive: true, force: true });
  }
}

async function loadIndex(
  indexDir: string,
  bundle: ModelBundle,
  searchThreads: SearchThreads,
  logger: Logger,
  check: LoadHnswOptions,
): Promise<AnnSearcher> {
  const { shards } = await readIndexManifest(indexDir);
  const parallel = searchThreads === 'auto' && shards.length >= 2;
  const searcher = parallel
    ? await loadParallelHnswSearcher(indexDir, bundle.candidates, {
        ...check,
        onFailure: (error) =>
          logger.error(
            'HNSW search worker failed: predict answers 500 and /health 503 until the server restarts',
            { err: error },
          ),
      })
    : await loadHnswSearcher(indexDir, bundle.candidates, check);
  const threads = parallel ? shards.length : 1;
  logger.info('HNSW index loaded', {
    ef: searcher.params.ef,
    shards: searcher.params.shards.length,
    search: parallel ? 'main+workers' : 'main-thread',
    searchThreads: threads,
    calibratedRecall: searcher.params.recall.recall,
    k: searcher.params.recall.k,
  });
  return { searcher, threads };
}
