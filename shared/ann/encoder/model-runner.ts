/**
 * One call shape over the two kinds of TF.js model a bundle may hold: a
 * LayersModel (what sample-model writes) or a GraphModel (a TF SavedModel
 * converted with tensorflowjs_converter). Inputs are fed by name when every
 * manifest input name matches a model input (graph models resolve signature
 * keys), else positionally in manifest order.
 */
import type { GraphModel, LayersModel, Tensor, io } from '@tensorflow/tfjs';
import type { ManifestInput } from '../bundle/manifest.js';
import type { Tf } from './tf-backend.js';

/** What the encoder needs to build each input tensor. */
export interface ModelInputSpec {
  /** The model's name for the input (the feed key for graph models). */
  readonly name: string;
  readonly dtype: 'int32' | 'float32';
  /** 1 for shape [batch], 2 for [batch, 1]. */
  readonly rank: 1 | 2;
}

/** A loaded model behind one synchronous call. */
export interface ModelRunner {
  /** Input specs in manifest order. */
  readonly inputs: readonly ModelInputSpec[];
  /** The model when it is a LayersModel (what the fast path can compile). */
  readonly layersModel?: LayersModel;
  /** Runs the model synchronously; call inside tf.tidy. */
  run(feeds: readonly Tensor[]): Tensor | Tensor[];
  dispose(): void;
}

/** Loads `artifacts` as a graph or layers model; throws (with TF.js's reason) if it cannot. */
export async function loadRunner(
  tf: Tf,
  artifacts: io.ModelArtifacts,
  manifestInputs: readonly ManifestInput[],
): Promise<ModelRunner> {
  const topology = artifacts.modelTopology as { node?: unknown } | undefined;
  const isGraph = artifacts.format === 'graph-model' || Array.isArray(topology?.node);
  if (isGraph) {
    const model: GraphModel = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    const specs = model.inputs.map((info, i) =>
      spec(model.inputNodes[i] ?? info.name, info.dtype, info.shape),
    );
    const ordered = order(specs, manifestInputs);
    return {
      inputs: ordered,
      run: (feeds) => model.execute(Object.fromEntries(ordered.map((s, i) => [s.name, feeds[i]!]))),
      dispose: () => model.dispose(),
    };
  }
  const model: LayersModel = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const specs = model.inputs.map((input, i) =>
    spec(model.inputNames[i] ?? input.name, input.dtype, input.shape),
  );
  const ordered = order(specs, manifestInputs);
  const positions = ordered.map((s) => specs.indexOf(s));
  return {
    inputs: ordered,
    layersModel: model,
    run: (feeds) => {
      const byModelOrder = specs.map((_, i) => feeds[positions.indexOf(i)]!);
      // apply() runs the graph eagerly: about half the time of predict(), which
      // slices every call into batches of 32 and concatenates them again.
      return model.apply(byModelOrder.length === 1 ? byModelOrder[0]! : byModelOrder) as
        Tensor | Tensor[];
    },
    dispose: () => model.dispose(),
  };
}

function spec(
  name: string,
  dtype: string | undefined,
  shape: readonly (number | null)[] | undefined,
): ModelInputSpec {
  return {
    name: name.replace(/:0$/, ''),
    dtype: dtype === 'int32' ? 'int32' : 'float32',
    rank: shape?.length === 1 ? 1 : 2,
  };
}

function order(
  specs: ModelInputSpec[],
  manifestInputs: readonly ManifestInput[],
): ModelInputSpec[] {
  if (specs.length !== manifestInputs.length) {
    throw new Error(
      `the model has ${specs.length} inputs (${specs.map((s) => s.name).join(', ')}) but the manifest lists ${manifestInputs.length}`,
    );
  }
  const byName = manifestInputs.map((input) => specs.find((s) => s.name === input.name));
  return byName.every((s) => s !== undefined) ? byName : specs;
}
