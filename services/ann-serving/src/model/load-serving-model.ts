/**
 * Builds the ServingModel from configuration: fetch the bundle (gs:// or
 * local), read and check it, load TF.js (the backend it picked is logged and
 * exported as a metric) and the query encoder, then the searcher for the mode
 * (for `ann`, on the main thread or with worker threads: SEARCH_THREADS).
 */
import type { Logger } from '@recdeploy/shared';
import {
  bundleFingerprint,
  candidatesSha256,
  createExactSearcher,
  declaredTrainingRunId,
  createPreprocessor,
  loadQueryEncoder,
  loadTf,
  readBundle,
  type ModelBundle,
  type ModelFingerprint,
} from '@recdeploy/shared/ann';
import type { ServingConfig } from '../config/serving-config.js';
import { loadTestFaults } from '../faults/test-faults.js';
import { loadAnnSearcher } from './ann-searcher.js';
import { BundleServingModel, type BundleServingModelParts } from './bundle-serving-model.js';
import { signatureOf } from './manifest-signature.js';
import { localModelDir } from './model-source.js';
import type { ServingModel } from './serving-model.js';

/** Bound on a per-request k when neither MAX_K nor the manifest's max_k says. */
const DEFAULT_MAX_K = 1000;

export async function loadServingModel(
  config: ServingConfig,
  logger: Logger,
): Promise<ServingModel> {
  const dir = await localModelDir(config.modelPath, config.modelCacheDir, logger);
  const bundle = await readBundle(dir);
  // Hashed once: the fingerprint and the index's check both need it.
  const candidatesSha = candidatesSha256(bundle.candidates);
  // Refuses a bundle whose files are not the ones its manifest's fingerprint describes.
  const fingerprint = await servedFingerprint(bundle, candidatesSha, config.trainingRunId);
  logger.info('bundle fingerprint', { ...fingerprint });
  const testFaults = await loadTestFaults(bundle.dir, config.allowTestFaults, logger);
  // NaN and ±Infinity in float inputs are accepted, as TF Serving accepts them.
  const preprocessor = createPreprocessor(bundle.manifest, bundle.vocabularies, {
    nonFinite: 'accept',
  });
  // One TF.js runtime for the encoder and the exact searcher; the best backend installed wins.
  const runtime = await loadTf();
  const encoder = await loadQueryEncoder(bundle, { runtime, logger });
  logger.info('query encoder loaded', {
    backend: runtime.backend,
    executor: encoder.executor,
    ...(encoder.fallbackReason === undefined ? {} : { fallbackReason: encoder.fallbackReason }),
    skippedBackends: runtime.skipped,
    dim: encoder.dim,
    candidates: bundle.candidates.count,
  });
  let searcher: BundleServingModelParts['searcher'];
  let searchThreads = 1;
  if (config.mode === 'exact') {
    const exact = await createExactSearcher(bundle.candidates, { tf: runtime.tf });
    logger.info('exact search ready', { kernel: exact.kernel });
    searcher = exact;
  } else {
    const ann = await loadAnnSearcher(bundle, encoder, config.searchThreads, logger, {
      candidatesSha256: candidatesSha,
      trainingRunId: declaredTrainingRunId(bundle.manifest),
    });
    searcher = ann.searcher;
    searchThreads = ann.threads;
  }
  const manifest = bundle.manifest;
  const maxK = Math.max(config.maxK ?? manifest.max_k ?? DEFAULT_MAX_K, manifest.default_k);
  return new BundleServingModel({
    name: config.modelName,
    version: config.modelVersion,
    bundle,
    signature: signatureOf(manifest),
    preprocessor,
    encoder,
    searcher,
    searchThreads,
    maxK,
    testFaults,
    fingerprint,
  });
}

/** The bundle's fingerprint, with the run the revision was deployed for when it was told. */
async function servedFingerprint(
  bundle: ModelBundle,
  candidatesSha: string,
  deployedFor: string | undefined,
): Promise<ModelFingerprint> {
  const computed = await bundleFingerprint(bundle, { candidatesSha256: candidatesSha });
  return deployedFor === undefined ? computed : { ...computed, trainingRunId: deployedFor };
}
