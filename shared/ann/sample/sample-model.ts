/**
 * `recdeploy sample-model`: generates B2B purchase data, trains the two-tower
 * model on it with TF.js (WASM backend unless a native one is installed),
 * measures recall@100 on held-out purchases against random and popularity
 * baselines, and writes a model bundle. Deterministic for a given seed and
 * backend (the trained_at timestamp aside).
 */
import { writeBundle } from '../bundle/bundle-writer.js';
import { createPreprocessor } from '../bundle/preprocessing.js';
import { loadTf } from '../encoder/tf-backend.js';
import { evaluateRetrieval } from './evaluate.js';
import { SeededRandom } from './random.js';
import {
  analyseInputs,
  exampleInstances,
  productIds,
  sampleManifest,
  withTrainingRecord,
} from './sample-bundle.js';
import { generateSampleData } from './sample-data.js';
import { listFiles } from './sample-helpers.js';
import { fitSampleModel } from './sample-training.js';
import { extendCandidates } from './synthetic-catalogue.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import {
  resolveSampleOptions,
  SAMPLE_DEFAULTS,
  sampleTrainingRunId,
  type SampleModelOptions,
  type SampleModelSummary,
} from './sample-options.js';

export { LARGE_CATALOGUE } from './sample-data.js';
export * from './sample-options.js';

/** Generates data, trains, evaluates and writes the bundle; see the module comment. */
export async function trainSampleModel(options: SampleModelOptions): Promise<SampleModelSummary> {
  const started = performance.now();
  const say = options.onProgress ?? (() => undefined);
  const { products, dim, seed, idType, epochs } = resolveSampleOptions(options);
  const trainingRunId = options.trainingRunId ?? sampleTrainingRunId();
  const { tf, backend } = await loadTf();
  if (backend === 'wasm') registerWasmTrainingKernels(tf);

  const random = new SeededRandom(seed);
  const data = generateSampleData({
    products,
    trainedWhenLarge: SAMPLE_DEFAULTS.products,
    customers: options.customers,
    random,
  });
  const trainedProducts = data.trained.count;
  const syntheticProducts = products - trainedProducts;
  say(
    `data: ${data.customers.count} customers, ${products} products (${trainedProducts} trained), ${data.train.product.length} training and ${data.test.product.length} held-out purchases`,
  );

  // TFT's analyzers run over the training rows only, as in a TFX Transform component.
  const { inputs, vocabularies } = analyseInputs(data.trainRows);
  const manifest = sampleManifest(inputs, dim, products, idType);
  const preprocessor = createPreprocessor(manifest, vocabularies);
  say(`training on the ${backend} backend: ${epochs} epochs, in-batch softmax`);
  const model = fitSampleModel(tf, data, manifest, vocabularies, preprocessor, {
    epochs,
    seed,
    say,
  });
  try {
    const quality = evaluateRetrieval(
      tf,
      model.query,
      preprocessor,
      data,
      model.candidateVectors,
      100,
    );
    say(
      `recall@100 on ${data.test.product.length} held-out purchases: ${quality.recall.toFixed(3)} (random ${quality.random.toFixed(3)}, most popular ${quality.popularity.toFixed(3)})`,
    );
    const candidates =
      syntheticProducts > 0
        ? extendCandidates(
            model.candidateVectors,
            trainedProducts,
            data.catalogue,
            dim,
            random.fork(),
          )
        : model.candidateVectors;
    if (syntheticProducts > 0)
      say(
        `synthesised ${syntheticProducts} product embeddings from the trained (category, tier) clusters`,
      );
    const finalLoss = model.losses.at(-1) ?? NaN;
    const bundleDir = await writeBundle(options.out, {
      manifest: withTrainingRecord(manifest, {
        seed,
        backend,
        quality,
        customers: data.customers.count,
        heldOut: data.test.product.length,
        finalLoss,
        trainSeconds: model.trainSeconds,
        trainedProducts,
      }),
      candidates: { vectors: candidates, count: products, dim },
      productIds: productIds(products, idType),
      vocabularies,
      examples: exampleInstances(data.customers, Array.from(data.test.customer), random.fork()),
      queryModel: model.query,
      trainingRunId,
    });
    say(`wrote ${bundleDir}`);
    return {
      bundleDir,
      products,
      trainedProducts,
      syntheticProducts,
      customers: data.customers.count,
      dim,
      idType,
      seed,
      trainingRunId,
      backend,
      epochs,
      trainInteractions: data.train.product.length,
      heldOutInteractions: data.test.product.length,
      finalLoss,
      trainSeconds: model.trainSeconds,
      totalSeconds: (performance.now() - started) / 1000,
      recallAt100: quality.recall,
      randomRecallAt100: quality.random,
      popularityRecallAt100: quality.popularity,
      files: await listFiles(bundleDir),
    };
  } finally {
    model.query.dispose();
    model.candidate.dispose();
  }
}
