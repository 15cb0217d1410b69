/**
 * The searcher for SERVING_MODE=ann: the bundle's prebuilt HNSW index
 * (`ann/index/`, written by `recdeploy build-index` or the deploy step).
 * Without one the server still starts, by building an index in a temporary
 * directory, but says so loudly: that build is on the start-up path (seconds
 * to minutes) and is repeated by every instance on every start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '@recdeploy/shared';
import {
  buildIndex,
  calibrationQueries,
  loadHnswSearcher,
  type ModelBundle,
  type QueryEncoder,
  type Searcher,
} from '@recdeploy/shared/ann';

/** Loads the bundle's index, or builds one (with a warning) when it has none. */
export async function loadAnnSearcher(
  bundle: ModelBundle,
  encoder: QueryEncoder,
  logger: Logger,
): Promise<Searcher> {
  try {
    const searcher = await loadHnswSearcher(bundle.dir, bundle.candidates);
    logger.info('HNSW index loaded', {
      ef: searcher.params.ef,
      shards: searcher.params.shards.length,
      calibratedRecall: searcher.params.recall.recall,
      k: searcher.params.recall.k,
    });
    return searcher;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'INDEX.NOT_FOUND') throw error;
  }
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
    });
    logger.warn('HNSW index built at start-up', {
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      ef: params.ef,
      recallAtK: params.recall.recall,
      k: params.recall.k,
    });
    return await loadHnswSearcher(outDir, bundle.candidates);
  } finally {
    // hnswlib holds the loaded graph in memory; on Cloud Run /tmp is memory too, so drop the files.
    await rm(workDir, { recursive: true, force: true });
  }
}
