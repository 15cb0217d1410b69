/**
 * The body of `POST …:predict`, decoded as TF Serving's
 * `FillPredictRequestFromJson` does, in the same order (so that the same
 * mistake gets the same answer): parse, `signature_name`, then, once the
 * caller has resolved the servable and signature, `instances` (row format)
 * or `inputs` (columnar format) into one tensor per signature input. Row
 * format also takes the seed guide's legacy serialized tf.Examples.
 */
import { jsonDebugString } from '../json/json-debug-string.js';
import { parseLenientJson, JsonSyntaxError } from '../json/lenient-json-parser.js';
import { JsonObject, isBase64Object, type JsonValue } from '../json/json-value.js';
import { denseShape, fillTensorValues, type Tensor } from './json-tensor.js';
import { rowTensors } from './row-format.js';
import type { TensorSpec } from './signature.js';
import { exampleTensors, holdsSerializedExamples } from './tf-example-instances.js';
import { invalidArgument } from './tf-status.js';

export type RequestFormat = 'row' | 'columnar';

/** The input tensors of one request and the format the answer must use. */
export interface DecodedInputs {
  readonly format: RequestFormat;
  readonly tensors: ReadonlyMap<string, Tensor>;
}

/** Parses a request body into its top-level object (`ParseJson`). */
export function parseRequestDocument(body: Uint8Array): JsonObject {
  if (body.length === 0) throw invalidArgument('JSON Parse error: The document is empty');
  let document: JsonValue;
  try {
    document = parseLenientJson(body);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw invalidArgument(error.message);
    throw error;
  }
  if (!(document instanceof JsonObject)) {
    throw invalidArgument(`JSON Value: ${jsonDebugString(document)} Is not object`);
  }
  return document;
}

/** The requested signature name; `""` when absent (the default signature). */
export function signatureNameOf(document: JsonObject): string {
  const name = document.get('signature_name');
  if (name === undefined) return '';
  if (typeof name !== 'string') {
    throw invalidArgument(
      `JSON Value: ${jsonDebugString(document)} not formatted correctly. 'signature_name' key must be a string value.`,
    );
  }
  return name;
}

/** Reads `instances` or `inputs` against the signature's inputs. */
export function decodeInputs(
  document: JsonObject,
  inputs: ReadonlyMap<string, TensorSpec>,
): DecodedInputs {
  const instances = document.get('instances');
  const columns = document.get('inputs');
  if (instances !== undefined) {
    if (columns !== undefined) {
      throw invalidArgument(
        `JSON Value: ${jsonDebugString(document)} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist `,
      );
    }
    if (!Array.isArray(instances)) {
      throw invalidArgument(
        `JSON Value: ${jsonDebugString(document)} Expecting 'instances' to be an list/array`,
      );
    }
    if (instances.length === 0) {
      throw invalidArgument(
        `JSON Value: ${jsonDebugString(document)} No values in 'instances' array`,
      );
    }
    // The seed guide's legacy form: serialized tf.Examples (tf-example-instances.ts).
    if (holdsSerializedExamples(instances, inputs)) {
      return { format: 'row', tensors: exampleTensors(instances, inputs) };
    }
    return { format: 'row', tensors: rowTensors(instances, inputs) };
  }
  if (columns !== undefined) return { format: 'columnar', tensors: columnTensors(columns, inputs) };
  throw invalidArgument("Missing 'inputs' or 'instances' key");
}

/** `FillTensorMapFromInputsMap`: one full tensor (batch included) per input. */
function columnTensors(
  value: JsonValue,
  inputs: ReadonlyMap<string, TensorSpec>,
): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  if (!(value instanceof JsonObject) || isBase64Object(value)) {
    if (inputs.size > 1) {
      throw invalidArgument(
        'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map',
      );
    }
    const [name, spec] = [...inputs][0]!;
    tensors.set(name, columnTensor(value, spec));
    return tensors;
  }
  for (const [name, spec] of inputs) {
    const column = value.get(name);
    // Extra keys are ignored, as in TF Serving's columnar format.
    if (column === undefined)
      throw invalidArgument(`Missing named input: ${name} in 'inputs' object.`);
    tensors.set(name, columnTensor(column, spec));
  }
  return tensors;
}

function columnTensor(value: JsonValue, spec: TensorSpec): Tensor {
  const shape = denseShape(value);
  const values: Tensor['values'] = [];
  fillTensorValues(value, shape, spec.dtype, values);
  return { dtype: spec.dtype, shape, values };
}
