/**
 * The row format (`instances`), as TF Serving's
 * `FillTensorMapFromInstancesList` and `AddInstanceItem` read it: either a
 * list of objects keyed by exactly the signature's input names, or (with a
 * one-input signature) a list of bare values; every instance of an input must
 * have the same shape; the batch tensor is `[N] + instance shape`.
 */
import { jsonDebugString } from '../json/json-debug-string.js';
import { JsonObject, isBase64Object, type JsonValue } from '../json/json-value.js';
import { denseShape, fillTensorValues, type Tensor, type TensorValue } from './json-tensor.js';
import type { TensorSpec } from './signature.js';
import { TfStatusError, invalidArgument } from './tf-status.js';

interface Column {
  shape: number[] | undefined;
  size: number;
  readonly values: TensorValue[];
}

/** Turns a non-empty `instances` array into one batch tensor per input. */
export function rowTensors(
  instances: readonly JsonValue[],
  inputs: ReadonlyMap<string, TensorSpec>,
): Map<string, Tensor> {
  const first = instances[0] ?? null;
  if (!(first instanceof JsonObject) && inputs.size > 1) {
    throw invalidArgument(
      'instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map',
    );
  }
  const objects = isNamedInputs(first);
  const names = [...inputs.keys()].sort();
  const columns = new Map<string, Column>();
  for (const [index, item] of instances.entries()) {
    if (objects) addObjectInstance(item, index, names, inputs, columns);
    else addBareInstance(item, index, names[0]!, inputs, columns);
  }
  const tensors = new Map<string, Tensor>();
  for (const [name, column] of columns) {
    const dtype = inputs.get(name)!.dtype;
    tensors.set(name, {
      dtype,
      shape: [instances.length, ...(column.shape ?? [])],
      values: column.values,
    });
  }
  return tensors;
}

function addObjectInstance(
  item: JsonValue,
  index: number,
  names: readonly string[],
  inputs: ReadonlyMap<string, TensorSpec>,
  columns: Map<string, Column>,
): void {
  if (!isNamedInputs(item)) {
    throw invalidArgument(`Expecting object but got list at item ${index} of input list`);
  }
  for (const [i, name] of item.keys.entries()) {
    try {
      if (item.keys.indexOf(name) !== i)
        throw invalidArgument(`JSON object: duplicate key: ${name}`);
      addItem(item.values[i] ?? null, name, inputs, columns);
    } catch (error) {
      throw wrapped(
        error,
        `Failed to process element: ${index} key: ${name} of 'instances' list. Error: `,
      );
    }
  }
  if (item.size !== names.length) {
    throw invalidArgument(
      `Failed to process element: ${index} of 'instances' list. JSON object: ${jsonDebugString(item)} keys must be equal to: ${names.join(',')}`,
    );
  }
}

function addBareInstance(
  item: JsonValue,
  index: number,
  name: string,
  inputs: ReadonlyMap<string, TensorSpec>,
  columns: Map<string, Column>,
): void {
  if (isNamedInputs(item)) {
    throw invalidArgument(`Expecting value/list but got object at item ${index} of input list`);
  }
  try {
    addItem(item, name, inputs, columns);
  } catch (error) {
    throw wrapped(error, `Failed to process element: ${index} of 'instances' list. Error: `);
  }
}

/** `AddInstanceItem`: one instance's value for one input. */
function addItem(
  value: JsonValue,
  name: string,
  inputs: ReadonlyMap<string, TensorSpec>,
  columns: Map<string, Column>,
): void {
  const spec = inputs.get(name);
  if (spec === undefined) throw invalidArgument(`JSON object: does not have named input: ${name}`);
  let column = columns.get(name);
  if (column === undefined) {
    column = { shape: undefined, size: 0, values: [] };
    columns.set(name, column);
  }
  const shape = denseShape(value);
  const size = fillTensorValues(value, shape, spec.dtype, column.values);
  if (column.shape === undefined) {
    column.shape = shape;
    column.size = size;
  } else if (column.size !== size) {
    throw invalidArgument(`Expecting tensor size: ${column.size} but got: ${size}`);
  } else if (column.shape.join(',') !== shape.join(',')) {
    throw invalidArgument(
      `Expecting shape [${column.shape.join(',')}] but got: [${shape.join(',')}]`,
    );
  }
}

/** An object that names inputs (a `{"b64": …}` object is a value instead). */
function isNamedInputs(value: JsonValue): value is JsonObject {
  return value instanceof JsonObject && !isBase64Object(value);
}

function wrapped(error: unknown, prefix: string): unknown {
  if (!(error instanceof TfStatusError)) return error;
  return new TfStatusError(error.code, prefix + error.toStatusString());
}
