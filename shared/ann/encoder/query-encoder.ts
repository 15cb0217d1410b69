/**
 * The query tower at serving time: preprocessed inputs in, one embedding of
 * embedding_dim floats per instance out. Loading checks the bundle's last
 * promise: the model loads and answers the first example with embedding_dim
 * values (a first run also warms the backend up).
 */
import { toRecdeployError } from '../../errors.js';
import { bundleError } from '../bundle/bundle-files.js';
import type { ModelBundle } from '../bundle/bundle-reader.js';
import { createPreprocessor, type PreparedInputs } from '../bundle/preprocessing.js';
import { registerL2Normalize } from './l2-normalize-layer.js';
import { readModelArtifacts } from './model-files.js';
import { loadRunner, type ModelRunner } from './model-runner.js';
import { loadTf, type Tf, type TfRuntime } from './tf-backend.js';

/** The loaded query tower. One per model; `encode` is synchronous and leaves no tensors behind. */
export interface QueryEncoder {
  /** The TF.js backend in use: 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend: string;
  /** Embedding size D. */
  readonly dim: number;
  /** count × D embeddings, row-major. Synchronous; tensors are freed before it returns. */
  encode(prepared: PreparedInputs): Float32Array;
  dispose(): void;
}

/** Options of `loadQueryEncoder`. */
export interface LoadQueryEncoderOptions {
  /** A runtime to use instead of the process's default `loadTf()`. */
  readonly runtime?: TfRuntime;
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
  const encoder: QueryEncoder = {
    backend,
    dim,
    encode: (prepared) => encode(tf, runner, dim, prepared),
    dispose: () => runner.dispose(),
  };
  const first = createPreprocessor(bundle.manifest, bundle.vocabularies).instances(
    bundle.examples.slice(0, 1),
  );
  try {
    encoder.encode(first);
  } catch (error) {
    runner.dispose();
    throw bundleError(
      file,
      `query model fails on the first example: ${toRecdeployError(error).message}`,
      error,
    );
  }
  return encoder;
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
