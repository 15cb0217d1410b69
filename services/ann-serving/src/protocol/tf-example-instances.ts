/**
 * The seed guide's legacy input: `{"instances": [{"b64": "<serialized
 * tf.Example>"}, …]}`, from clients of models trained before its raw-JSON fix,
 * whose signature took serialized Examples and parsed them in the graph
 * (`tf.io.parse_example` with one FixedLenFeature per input). Each Example's
 * features fill the signature's inputs as that parse would: bytes_list a
 * string input, float_list a float input, int64_list an int64 input, with
 * exactly as many values as the input's shape per instance holds (one for a
 * scalar), and TensorFlow's own error texts.
 *
 * The texts are those of FastParseSerializedExample in TensorFlow's
 * tensorflow/core/util/example_proto_fast_parsing.cc (the kernel behind
 * ParseExample/ParseExampleV2), with its example name `<unknown>` (a predict
 * request names none) and the instance's index. TF Serving returns them as
 * the session's INVALID_ARGUMENT, so here too: 400 `{"error": …}`. The graph
 * node suffix TensorFlow appends (`[[{{node ParseExample/…}}]]`) is left out:
 * there is no graph here to name.
 */
import { decodeBase64Bytes, textOrBytes } from './base64.js';
import { dataTypeString, type Tensor, type TensorValue } from './json-tensor.js';
import { isBase64Object, type JsonObject, type JsonValue } from '../json/json-value.js';
import type { DataType, TensorSpec } from './signature.js';
import { TfStatusError, invalidArgument } from './tf-status.js';
import { decodeExample, type DecodedFeature, type DecodedInt64 } from './tf-example-schema.js';

/** The dtypes an Example carries (TF's CheckConfigDataType accepts these only). */
type ExampleDtype = 'DT_STRING' | 'DT_FLOAT' | 'DT_INT64';

/** An example's name in TF's messages when the request gives none (FastParseExample). */
const UNNAMED = '<unknown>';

/**
 * True when `instances` are serialized Examples: every one a bare
 * `{"b64": …}` value, for a signature that does not itself take one string
 * input those values would fill (then they are that input's strings, as
 * before).
 */
export function holdsSerializedExamples(
  instances: readonly JsonValue[],
  inputs: ReadonlyMap<string, TensorSpec>,
): boolean {
  if (instances.length === 0 || !instances.every(isBase64Object)) return false;
  const [only] = inputs.values();
  return !(inputs.size === 1 && only?.dtype === 'DT_STRING');
}

/** One batch tensor per signature input, `[N] + shape per instance`, from N Examples. */
export function exampleTensors(
  instances: readonly JsonValue[],
  inputs: ReadonlyMap<string, TensorSpec>,
): Map<string, Tensor> {
  const configs = [...inputs].map(([name, spec]) => featureConfig(name, spec));
  const columns = configs.map((): TensorValue[] => []);
  instances.forEach((instance, index) => {
    const serialized = serializedExample(instance as JsonObject, index);
    const values = parseExample(serialized, index, configs);
    values.forEach((list, d) => columns[d]!.push(...list));
  });
  return new Map(
    configs.map((config, d) => [
      config.name,
      { dtype: config.dtype, shape: [instances.length, ...config.shape], values: columns[d]! },
    ]),
  );
}

/** A signature input as a FixedLenFeature of the parse: its dtype and shape per instance. */
interface FeatureConfig {
  readonly name: string;
  readonly dtype: ExampleDtype;
  readonly shape: readonly number[];
  readonly elements: number;
}

function featureConfig(name: string, spec: TensorSpec): FeatureConfig {
  const dtype = spec.dtype;
  if (!isExampleDtype(dtype)) {
    // CheckConfigDataType's text: the graph could not have parsed this input from an Example.
    throw invalidArgument(`Invalid config dtype: ${dataTypeString(dtype)}`);
  }
  const shape = spec.shape.slice(1);
  if (shape.some((size) => size < 0)) {
    throw invalidArgument(
      `Input: ${name} has shape [${spec.shape.join(',')}]: a tf.Example fills a shape known in every dimension but the batch`,
    );
  }
  return { name, dtype, shape, elements: shape.reduce((n, size) => n * size, 1) };
}

/** The bytes of one instance; a bad b64 is worded as for any other instance. */
function serializedExample(instance: JsonObject, index: number): Uint8Array {
  try {
    return decodeBase64Bytes(instance);
  } catch (error) {
    if (!(error instanceof TfStatusError)) throw error;
    throw new TfStatusError(
      error.code,
      `Failed to process element: ${index} of 'instances' list. Error: ${error.toStatusString()}`,
    );
  }
}

/**
 * One Example's values per config, in config order, checked as
 * FastParseSerializedExample checks them: the features present, last entry
 * first (a repeated key's last entry wins), then the missing ones.
 */
function parseExample(
  serialized: Uint8Array,
  index: number,
  configs: readonly FeatureConfig[],
): TensorValue[][] {
  const features = decodedFeatures(serialized);
  const found = configs.map((): TensorValue[] | undefined => undefined);
  for (const key of Object.keys(features).reverse()) {
    const d = configs.findIndex((config) => config.name === key);
    if (d < 0) continue; // Features the signature does not take are ignored.
    found[d] = featureValues(features[key]!, configs[d]!, index);
  }
  return configs.map((config, d) => {
    const values = found[d];
    if (values !== undefined) return values;
    throw invalidArgument(
      `Name: ${UNNAMED}, Feature: ${config.name} (data type: ${dataTypeString(config.dtype)}) is required but could not be found.`,
    );
  });
}

/** The feature map of a serialized Example, own keys only. */
function decodedFeatures(serialized: Uint8Array): Readonly<Record<string, DecodedFeature>> {
  let map: Readonly<Record<string, DecodedFeature>>;
  try {
    map = decodeExample(serialized).features?.feature ?? {};
  } catch {
    throw invalidArgument(
      `Could not parse example input, value: '${Buffer.from(serialized).toString('utf8')}'`,
    );
  }
  // A key such as "toString" must not find Object.prototype's (a "__proto__" key is dropped by the decoder).
  return Object.fromEntries(Object.entries(map));
}

/**
 * The values of a present feature, or undefined for an empty Feature (no
 * list set), which TF treats as absent.
 */
function featureValues(
  feature: DecodedFeature,
  config: FeatureConfig,
  index: number,
): TensorValue[] | undefined {
  const present = presentList(feature);
  if (present === undefined) return undefined;
  const where = `Name: ${UNNAMED}, Key: ${config.name}, Index: ${index}.  `;
  if (present.dtype !== config.dtype) {
    throw invalidArgument(
      `${where}Data types don't match. Data type: ${dataTypeString(present.dtype)} but expected type: ${dataTypeString(config.dtype)}`,
    );
  }
  if (present.values.length !== config.elements) {
    throw invalidArgument(
      `${where}Number of ${KIND_NAME[config.dtype]} values != expected.  Values size: ${present.values.length} but output shape: [${config.shape.join(',')}]`,
    );
  }
  return present.values;
}

/** How TF names each list kind in its count message. */
const KIND_NAME: Readonly<Record<ExampleDtype, string>> = {
  DT_STRING: 'bytes',
  DT_FLOAT: 'float',
  DT_INT64: 'int64',
};

function presentList(
  feature: DecodedFeature,
): { dtype: ExampleDtype; values: TensorValue[] } | undefined {
  if (feature.bytes_list) {
    return { dtype: 'DT_STRING', values: feature.bytes_list.value.map(textOrBytes) };
  }
  if (feature.float_list) return { dtype: 'DT_FLOAT', values: [...feature.float_list.value] };
  if (feature.int64_list) return { dtype: 'DT_INT64', values: feature.int64_list.value.map(int64) };
  return undefined;
}

/** Numbers where exact, bigint beyond 2^53 (as the JSON path types int64). */
function int64(value: DecodedInt64): number | bigint {
  if (typeof value === 'number') return value;
  const exact = BigInt(value.toString());
  const small = Number(exact);
  return Number.isSafeInteger(small) ? small : exact;
}

function isExampleDtype(dtype: DataType): dtype is ExampleDtype {
  return dtype === 'DT_STRING' || dtype === 'DT_FLOAT' || dtype === 'DT_INT64';
}
