/**
 * A typed-array executor for small query towers: a LayersModel made only of
 * InputLayer, Embedding, Flatten, Reshape, Concatenate, Dense
 * (linear/relu/tanh/sigmoid) and L2Normalize. Per request TF.js pays tensor
 * creation, kernel dispatch and WASM round trips for a few thousand
 * multiply-adds; this runs the same arithmetic in plain loops over weights
 * copied once at load. It reads the serialised topology (model.json's
 * snake_case configs) and refuses, with a reason, anything it does not
 * reproduce exactly, so the caller can keep TF.js for that model.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { PreparedColumn } from '../bundle/prepared-inputs.js';
import { L2_NORMALIZE_CLASS } from './l2-normalize-layer.js';

/** The compiled model. */
export interface DenseExecutor {
  /** Embedding width of the single output. */
  readonly outputDim: number;
  /**
   * count × outputDim, row-major; `columns` in the feed order given at compile
   * time. Undefined when an input holds a value whose TF.js handling this
   * executor does not copy (non-finite, fractional or out-of-range id): the
   * caller runs TF.js for that batch, which answers or throws as it always did.
   */
  run(columns: readonly PreparedColumn[], count: number): Float32Array | undefined;
}

/** An executor, or why the model needs TF.js. */
export type DenseExecutorResult =
  { readonly executor: DenseExecutor } | { readonly unsupported: string };

/** What a feed looks like to the model (name and dtype, as model-runner's specs). */
export interface FeedSpec {
  readonly name: string;
  readonly dtype: 'int32' | 'float32';
}

/**
 * One step of the plan: reads earlier values (per-instance values row-major,
 * `count` rows) and returns a new one, or undefined to let TF.js do the batch.
 */
type Step = (values: readonly Float32Array[], count: number) => Float32Array | undefined;

interface Node {
  /** Per-instance shape (no batch axis). */
  readonly shape: readonly number[];
  /** Set on model inputs: their values come from the feeds. */
  readonly feed?: true;
  /** Indices of the nodes it reads. */
  readonly inputs: readonly number[];
  readonly step: Step;
}

interface LayerJson {
  readonly class_name: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
  readonly inbound_nodes: unknown;
}

class Unsupported extends Error {}

const ACTIVATIONS: Record<string, ((x: number) => number) | undefined> = {
  linear: (x) => x,
  relu: (x) => (x < 0 ? 0 : x),
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

/** Compiles `model` (its serialised `topology`) for feeds in `feeds` order; never throws. */
export function compileDenseExecutor(
  model: LayersModel,
  topology: unknown,
  feeds: readonly FeedSpec[],
): DenseExecutorResult {
  try {
    return { executor: compile(model, topology, feeds) };
  } catch (error) {
    if (error instanceof Unsupported) return { unsupported: error.message };
    return { unsupported: `cannot compile: ${(error as Error).message}` };
  }
}

function compile(model: LayersModel, topology: unknown, feeds: readonly FeedSpec[]): DenseExecutor {
  const root = unwrap(topology);
  if (root.class_name !== 'Model' && root.class_name !== 'Functional') {
    throw new Unsupported(`top-level class ${String(root.class_name)} (only functional models)`);
  }
  const config = object(root.config, 'model config');
  const layers = array(config.layers, 'layers').map((l) => layerJson(l));
  const byName = new Map(layers.map((l) => [l.name, l]));
  const nodes: Node[] = [];
  const nodeOf = new Map<string, number>();
  const feedIndex = new Map(feeds.map((f, i) => [f.name, i]));
  const visiting = new Set<string>();

  const build = (name: string): number => {
    const known = nodeOf.get(name);
    if (known !== undefined) return known;
    const layer = byName.get(name);
    if (!layer) throw new Unsupported(`inbound layer ${name} is not in the model`);
    if (visiting.has(name)) throw new Unsupported(`layer ${name} is part of a cycle`);
    visiting.add(name);
    const inputs = inboundOf(layer).map(build);
    const node = nodeFor(layer, inputs, nodes, model, feedIndex, feeds);
    nodes.push(node);
    nodeOf.set(name, nodes.length - 1);
    visiting.delete(name);
    return nodes.length - 1;
  };

  const outputs = array(config.output_layers, 'output_layers');
  if (outputs.length !== 1) throw new Unsupported(`${outputs.length} outputs; a query tower has 1`);
  const output = build(layerRef(outputs[0], 'output_layers[0]'));
  const inputLayers = array(config.input_layers, 'input_layers').map((r, i) =>
    layerRef(r, `input_layers[${i}]`),
  );
  const inputNodes = inputLayers.map(build);
  if (inputLayers.length !== feeds.length || feeds.some((f) => !inputLayers.includes(f.name))) {
    throw new Unsupported(
      `model inputs (${inputLayers.join(', ')}) differ from the feeds (${feeds.map((f) => f.name).join(', ')})`,
    );
  }
  const outShape = nodes[output]!.shape;
  if (outShape.length !== 1) throw new Unsupported(`output shape [${outShape.join(', ')}]`);
  const feedNodes = feeds.map((f) => inputNodes[inputLayers.indexOf(f.name)]!);
  return {
    outputDim: outShape[0]!,
    run(columns, count) {
      const values: Float32Array[] = new Array<Float32Array>(nodes.length);
      for (const [i, node] of nodes.entries()) {
        const at = feedNodes.indexOf(i);
        const value =
          at >= 0
            ? feedValue(columns[at]!, feeds[at]!, count)
            : node.step(
                node.inputs.map((n) => values[n]!),
                count,
              );
        if (value === undefined) return undefined;
        values[i] = value;
      }
      return values[output]!;
    },
  };
}

/** A feed as TF.js sees it after encode() casts it to the model's dtype. */
function feedValue(
  column: PreparedColumn,
  spec: FeedSpec,
  count: number,
): Float32Array | undefined {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = column.values[i]!;
    if (!Number.isFinite(v)) return undefined;
    data[i] = spec.dtype === 'int32' ? Math.trunc(v) : v;
  }
  return data;
}

function nodeFor(
  layer: LayerJson,
  inputs: readonly number[],
  nodes: readonly Node[],
  model: LayersModel,
  feedIndex: ReadonlyMap<string, number>,
  feeds: readonly FeedSpec[],
): Node {
  const c = layer.config;
  const shapes = inputs.map((i) => nodes[i]!.shape);
  const single = (): readonly number[] => {
    if (shapes.length !== 1) throw new Unsupported(`${layer.name} has ${shapes.length} inputs`);
    return shapes[0]!;
  };
  const weights = () => model.getLayer(layer.name).getWeights();
  const at = `${layer.class_name} ${layer.name}`;
  switch (layer.class_name) {
    case 'InputLayer': {
      const batchShape = array(c.batch_input_shape, `${at} batch_input_shape`);
      const shape = batchShape.slice(1);
      if (!(shape.length === 0 || (shape.length === 1 && shape[0] === 1))) {
        throw new Unsupported(`${at}: shape [${shape.join(', ')}], not one value per instance`);
      }
      const feed = feedIndex.get(layer.name);
      if (feed === undefined) throw new Unsupported(`${at} is not fed`);
      if ((c.dtype ?? 'float32') !== feeds[feed]!.dtype)
        throw new Unsupported(`${at}: dtype ${String(c.dtype)}`);
      return { shape: shape as number[], inputs, feed: true, step: () => undefined };
    }
    case 'Flatten':
    case 'Reshape': {
      const from = single();
      const size = product(from);
      const to =
        layer.class_name === 'Flatten'
          ? [size]
          : array(c.target_shape, `${at} target_shape`).map((d) => {
              if (typeof d !== 'number' || d < 1)
                throw new Unsupported(`${at}: target ${JSON.stringify(d)}`);
              return d;
            });
      if (product(to) !== size)
        throw new Unsupported(`${at}: ${size} values into [${to.join(', ')}]`);
      if (layer.class_name === 'Flatten' && c.data_format === 'channels_first') {
        throw new Unsupported(`${at}: data_format channels_first`);
      }
      // Row-major data: flattening or reshaping an instance moves nothing.
      return { shape: to, inputs, step: ([x]) => x };
    }
    case 'Embedding': {
      const from = single();
      if (c.mask_zero) throw new Unsupported(`${at}: mask_zero`);
      // Ids computed by other layers would need TF.js's float-to-int cast rules.
      if (!nodes[inputs[0]!]!.feed) throw new Unsupported(`${at}: input is not a model input`);
      const rows = integer(c.input_dim, `${at} input_dim`);
      const width = integer(c.output_dim, `${at} output_dim`);
      const length = c.input_length;
      if (length !== null && length !== undefined) {
        const expected = [length].flat();
        if (expected.length !== from.length || expected.some((d, i) => d !== from[i])) {
          throw new Unsupported(
            `${at}: input_length ${JSON.stringify(length)} vs [${from.join(', ')}]`,
          );
        }
      }
      const [table] = weights();
      if (!table || table.shape.join() !== `${rows},${width}`) {
        throw new Unsupported(`${at}: embeddings shape [${table?.shape.join(', ')}]`);
      }
      if (rows > 2 ** 24) throw new Unsupported(`${at}: ${rows} rows`);
      const data = Float32Array.from(table.dataSync());
      const perInstance = product(from);
      return {
        shape: [...from, width],
        inputs,
        step: ([x], count) => {
          const out = new Float32Array(count * perInstance * width);
          for (let i = 0; i < count * perInstance; i++) {
            const id = x![i]!;
            if (!Number.isInteger(id) || id < 0 || id >= rows) return undefined;
            out.set(data.subarray(id * width, (id + 1) * width), i * width);
          }
          return out;
        },
      };
    }
    case 'Concatenate': {
      if (c.axis !== -1 && c.axis !== undefined)
        throw new Unsupported(`${at}: axis ${JSON.stringify(c.axis)}`);
      if (shapes.length < 2 || shapes.some((s) => s.length !== 1)) {
        throw new Unsupported(`${at}: inputs ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')}`);
      }
      const widths = shapes.map((s) => s[0]!);
      const total = widths.reduce((a, b) => a + b, 0);
      return {
        shape: [total],
        inputs,
        step: (xs, count) => {
          const out = new Float32Array(count * total);
          let offset = 0;
          for (const [k, x] of xs.entries()) {
            const w = widths[k]!;
            for (let r = 0; r < count; r++) {
              out.set(x.subarray(r * w, (r + 1) * w), r * total + offset);
            }
            offset += w;
          }
          return out;
        },
      };
    }
    case 'Dense':
      return dense(layer, single(), inputs, weights());
    case L2_NORMALIZE_CLASS: {
      const from = single();
      if (from.length !== 1) throw new Unsupported(`${at}: input [${from.join(', ')}]`);
      const width = from[0]!;
      return {
        shape: from,
        inputs,
        step: ([x], count) => {
          const out = new Float32Array(count * width);
          for (let r = 0; r < count; r++) {
            const row = x!.subarray(r * width, (r + 1) * width);
            let sum = 0;
            for (let j = 0; j < width; j++) sum += row[j]! * row[j]!;
            // As the layer: x · rsqrt(max(Σx², 1e-12)).
            const scale = 1 / Math.sqrt(Math.max(sum, 1e-12));
            for (let j = 0; j < width; j++) out[r * width + j] = row[j]! * scale;
          }
          return out;
        },
      };
    }
    default:
      throw new Unsupported(`layer ${layer.name} of class ${layer.class_name}`);
  }
}

function dense(
  layer: LayerJson,
  from: readonly number[],
  inputs: readonly number[],
  tensors: ReturnType<LayersModel['getWeights']>,
): Node {
  const c = layer.config;
  const at = `Dense ${layer.name}`;
  if (from.length !== 1) throw new Unsupported(`${at}: input [${from.join(', ')}] (only rank 2)`);
  const units = integer(c.units, `${at} units`);
  const activationName = c.activation ?? 'linear';
  const activation = typeof activationName === 'string' ? ACTIVATIONS[activationName] : undefined;
  if (!activation) throw new Unsupported(`${at}: activation ${JSON.stringify(activationName)}`);
  const useBias = c.use_bias !== false;
  const [kernel, bias] = tensors;
  const width = from[0]!;
  if (!kernel || kernel.shape.join() !== `${width},${units}`) {
    throw new Unsupported(`${at}: kernel shape [${kernel?.shape.join(', ')}]`);
  }
  if (useBias ? bias?.shape.join() !== `${units}` : bias !== undefined) {
    throw new Unsupported(`${at}: bias shape [${bias?.shape.join(', ')}]`);
  }
  const w = transpose(kernel.dataSync(), width, units);
  const b = useBias ? Float32Array.from(bias!.dataSync()) : new Float32Array(units);
  return {
    shape: [units],
    inputs,
    step: ([x], count) => {
      const out = new Float32Array(count * units);
      for (let r = 0; r < count; r++) {
        const xo = r * width;
        const oo = r * units;
        let j = 0;
        // Four output units at a time: each x value loaded once feeds four sums (in doubles).
        for (; j + 4 <= units; j += 4) {
          let s0 = b[j]!;
          let s1 = b[j + 1]!;
          let s2 = b[j + 2]!;
          let s3 = b[j + 3]!;
          const w0 = j * width;
          for (let i = 0; i < width; i++) {
            const xi = x![xo + i]!;
            s0 += xi * w[w0 + i]!;
            s1 += xi * w[w0 + width + i]!;
            s2 += xi * w[w0 + 2 * width + i]!;
            s3 += xi * w[w0 + 3 * width + i]!;
          }
          out[oo + j] = activation(s0);
          out[oo + j + 1] = activation(s1);
          out[oo + j + 2] = activation(s2);
          out[oo + j + 3] = activation(s3);
        }
        for (; j < units; j++) {
          let sum = b[j]!;
          for (let i = 0; i < width; i++) sum += x![xo + i]! * w[j * width + i]!;
          out[oo + j] = activation(sum);
        }
      }
      return out;
    },
  };
}

/** A row-major [rows, cols] matrix as row-major [cols, rows]: one unit's weights contiguous. */
function transpose(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

function unwrap(topology: unknown): { class_name?: unknown; config?: unknown } {
  const top = object(topology, 'modelTopology');
  // Keras `model.to_json()` nests the model under model_config next to training_config.
  return object('model_config' in top ? top.model_config : top, 'modelTopology');
}

function layerJson(raw: unknown): LayerJson {
  const l = object(raw, 'layer');
  if (typeof l.class_name !== 'string' || typeof l.name !== 'string') {
    throw new Unsupported('a layer without class_name or name');
  }
  return {
    class_name: l.class_name,
    name: l.name,
    config: object(l.config, `layer ${l.name} config`),
    inbound_nodes: l.inbound_nodes,
  };
}

/** Names of the layers feeding `layer`; shared layers and multi-output layers are refused. */
function inboundOf(layer: LayerJson): string[] {
  const calls = array(layer.inbound_nodes, `${layer.name} inbound_nodes`);
  if (calls.length === 0) return [];
  if (calls.length !== 1)
    throw new Unsupported(`layer ${layer.name} is called ${calls.length} times`);
  return array(calls[0], `${layer.name} inbound node`).map((ref) => {
    const parts = array(ref, `${layer.name} inbound ref`);
    const [name, nodeIndex, tensorIndex, kwargs] = parts;
    const noKwargs =
      kwargs === undefined ||
      (typeof kwargs === 'object' && Object.keys(kwargs ?? {}).length === 0);
    if (typeof name !== 'string' || nodeIndex !== 0 || tensorIndex !== 0 || !noKwargs) {
      throw new Unsupported(`layer ${layer.name}: inbound ${JSON.stringify(ref)}`);
    }
    return name;
  });
}

function layerRef(raw: unknown, what: string): string {
  const [name, nodeIndex, tensorIndex] = array(raw, what);
  if (typeof name !== 'string' || nodeIndex !== 0 || tensorIndex !== 0) {
    throw new Unsupported(`${what}: ${JSON.stringify(raw)}`);
  }
  return name;
}

function object(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Unsupported(`${what} is not an object`);
  }
  return raw as Record<string, unknown>;
}

function array(raw: unknown, what: string): unknown[] {
  if (!Array.isArray(raw)) throw new Unsupported(`${what} is not a list`);
  return raw as unknown[];
}

function integer(raw: unknown, what: string): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1) {
    throw new Unsupported(`${what}: ${JSON.stringify(raw)}`);
  }
  return raw;
}

function product(shape: readonly unknown[]): number {
  return shape.reduce<number>((n, d) => {
    if (typeof d !== 'number') throw new Unsupported(`shape [${shape.join(', ')}]`);
    return n * d;
  }, 1);
}
