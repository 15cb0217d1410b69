/**
 * Chooses between the typed-array executor and TF.js at load. The executor
 * is used only when it compiles the model and reproduces TF.js on the
 * bundle's examples to within `FAST_PATH_TOLERANCE`: that self-check is what
 * makes it safe to serve from, whatever the model.
 */
import type { io } from '@tensorflow/tfjs';
import type { PreparedInputs } from '../bundle/preprocessing.js';
import { compileDenseExecutor, type DenseExecutor } from './dense-executor.js';
import type { ModelRunner } from './model-runner.js';

/** Largest absolute difference to TF.js, per output value, that the self-check accepts. */
export const FAST_PATH_TOLERANCE = 1e-4;

/** Which code computes the embeddings. */
export type EncoderExecutor = 'fast-path' | 'tfjs';

/** The executor chosen, or TF.js and why. */
export type FastPathChoice =
  | { readonly executor: DenseExecutor; readonly maxAbsDiff: number }
  | { readonly executor?: undefined; readonly reason: string };

/**
 * Compiles `runner`'s model and compares it with `tfjsEncode` on `examples`
 * (all of the bundle's, as one batch). Never throws: a failure is a reason.
 */
export function chooseFastPath(
  runner: ModelRunner,
  artifacts: io.ModelArtifacts,
  dim: number,
  examples: PreparedInputs,
  tfjsEncode: (prepared: PreparedInputs) => Float32Array,
): FastPathChoice {
  if (!runner.layersModel) return { reason: 'the query model is a GraphModel' };
  const compiled = compileDenseExecutor(runner.layersModel, artifacts.modelTopology, runner.inputs);
  if ('unsupported' in compiled) return { reason: `unsupported model: ${compiled.unsupported}` };
  const { executor } = compiled;
  if (executor.outputDim !== dim) {
    return { reason: `the model outputs ${executor.outputDim} values, embedding_dim is ${dim}` };
  }
  try {
    const fast = executor.run(examples.columns, examples.count);
    if (!fast) return { reason: 'the examples hold values the fast path leaves to TF.js' };
    const expected = tfjsEncode(examples);
    let maxAbsDiff = 0;
    for (let i = 0; i < expected.length; i++) {
      const diff = Math.abs(fast[i]! - expected[i]!);
      // NaN compares false: count it as a mismatch explicitly.
      maxAbsDiff = Number.isNaN(diff) ? Infinity : Math.max(maxAbsDiff, diff);
    }
    if (fast.length !== expected.length || !(maxAbsDiff <= FAST_PATH_TOLERANCE)) {
      return {
        reason: `differs from TF.js on the examples: max abs difference ${maxAbsDiff} > ${FAST_PATH_TOLERANCE}`,
      };
    }
    return { executor, maxAbsDiff };
  } catch (error) {
    return { reason: `fails on the examples: ${(error as Error).message}` };
  }
}
