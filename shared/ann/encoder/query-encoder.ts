/**
 * The query tower at serving time: preprocessed inputs in, one embedding of
 * embedding_dim floats per instance out. Loading checks the bundle's last
 * promise: the model loads and answers the first example with embedding_dim
 * values (a first run also warms the backend up). Small LayersModels then run
 * on a typed-array executor instead of TF.js when it reproduces TF.js on the
 * bundle's examples (see fast-path.ts); anything else stays on TF.js.
 */
import { toRecdeployError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import { bundleError } from '../bundle/bundle-files.js';
import type { ModelBundle } from '../bundle/bundle-reader.js';
import { createPreprocessor, type PreparedInputs } from '../bundle/preprocessing.js';
import { chooseFastPath, type EncoderExecutor } from './fast-path.js';
import { registerL2Normalize } from './l2-normalize-layer.js';
import { readModelArtifacts } from './model-files.js';
import { loadRunner, type ModelRunner } from './model-runner.js';
import { loadTf, type Tf, type TfRuntime } from './tf-backend.js';

/**
 * Largest batch the fast path encodes. TF.js costs a fixed ~0.1 ms per call
 * (tensors, dispatch) but little per instance (SIMD matmul); the scalar
 * executor costs ~12 µs per instance of the sample tower, so past about 8
 * instances TF.js is faster (docs/performance.md).
 */
export const FAST_PATH_MAX_BATCH = 8;

/** The loaded query tower. One per model; `encode` is synchronous and leaves no tensors behind. */
export interface QueryEncoder {
  /** The TF.js backend in use: 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend: string;
  /** Embedding size D. */
  readonly dim: number;
  /** What computes the embeddings: the typed-array fast path or TF.js. */
  readonly executor: EncoderExecutor;
  /** Why TF.js runs the model (undefined on the fast path). */
  readonly fallbackReason?: string;
  /** count × D embeddings, row-major. Synchronous; tensors are freed before it returns. */
  encode(prepared: PreparedInputs): Float32Array;
  dispose(): void;
}

/** Options of `loadQueryEncoder`. */
export interface LoadQueryEncoderOptions {
  /** A runtime to use instead of the process's default `loadTf()`. */
  readonly runtime?: TfRuntime;
  /** false keeps TF.js even when the fast path supports the model (benchmarks, comparisons). */
  readonly fastPath?: boolean;
  /** Receives one line saying which executor runs the model, and why TF.js if it does. */
  readonly logger?: Logger;
}

/** Loads the bundle's query model; throws `BUNDLE.INVALID` if it does not load or returns the wrong size. */
export async function loadQueryEncoder(
  bundle: ModelBundle,
  options: LoadQueryEncoderOptions = {},
): Promise<QueryEncoder> {
  const { tf, backend } = options.runtime ?? (await loadTf());
  registerL2Normalize(tf);
  const file = bundle.queryModelPath;
  const artifacts = await readModelArtifacts(file);
  let runner: ModelRunner;
  try {
    runner = await loadRunner(tf, artifacts, bundle.manifest.inputs);
  } catch (error) {
    throw bundleError(
      file,
      `TF.js cannot load the query model: ${toRecdeployError(error).message}`,
      error,
    );
  }
  const dim = bundle.manifest.embedding_dim;
  const tfjsEncode = (prepared: PreparedInputs) => encode(tf, runner, dim, prepared);
  const preprocessor = createPreprocessor(bundle.manifest, bundle.vocabularies);
  try {
    tfjsEncode(preprocessor.instances(bundle.examples.slice(0, 1)));
  } catch (error) {
    runner.dispose();
    throw bundleError(
      file,
      `query model fails on the first example: ${toRecdeployError(error).message}`,
      error,
    );
  }
  const choice =
    options.fastPath === false
      ? { reason: 'fast path disabled by the caller' }
      : chooseFastPath(runner, artifacts, dim, examplesOf(bundle, preprocessor), tfjsEncode);
  const fast = choice.executor;
  options.logger?.info('query encoder executor', {
    encoder: fast ? 'fast-path' : 'tfjs',
    ...('reason' in choice ? { reason: choice.reason } : { maxAbsDiff: choice.maxAbsDiff }),
  });
  return {
    backend,
    dim,
    ...(fast ? { executor: 'fast-path' } : { executor: 'tfjs', fallbackReason: choice.reason }),
    encode: fast
      ? (prepared) => {
          if (prepared.count === 0) return new Float32Array(0);
          if (prepared.count > FAST_PATH_MAX_BATCH) return tfjsEncode(prepared);
          // Inputs the executor does not reproduce exactly (non-finite, bad ids) go to TF.js.
          return fast.run(prepared.columns, prepared.count) ?? tfjsEncode(prepared);
        }
      : tfjsEncode,
    dispose: () => runner.dispose(),
  };
}

/** All of the bundle's examples as one batch; the first alone when some do not preprocess. */
function examplesOf(
  bundle: ModelBundle,
  preprocessor: ReturnType<typeof createPreprocessor>,
): PreparedInputs {
  try {
    return preprocessor.instances(bundle.examples);
  } catch {
    return preprocessor.instances(bundle.examples.slice(0, 1));
  }
}

function encode(tf: Tf, runner: ModelRunner, dim: number, prepared: PreparedInputs): Float32Array {
  if (prepared.count === 0) return new Float32Array(0);
  return tf.tidy(() => {
    const feeds = runner.inputs.map((spec, i) => {
      const column = prepared.columns[i]!;
      const shape = spec.rank === 1 ? [prepared.count] : [prepared.count, 1];
      const tensor = tf.tensor(column.values, shape, column.dtype);
      return column.dtype === spec.dtype ? tensor : tf.cast(tensor, spec.dtype);
    });
    const output = runner.run(feeds);
    if (Array.isArray(output))
      throw new Error(`the model has ${output.length} outputs; a query tower has one`);
    const shape = output.shape;
    if (shape.length !== 2 || shape[0] !== prepared.count || shape[1] !== dim) {
      throw new Error(
        `output shape [${shape.join(', ')}], expected [${prepared.count}, ${dim}] (embedding_dim ${dim})`,
      );
    }
    return new Float32Array(output.dataSync());
  });
}
