/**
 * JSON values → dense tensors, following TF Serving's json_tensor.cc
 * (`AddValueToTensor`, `FillTensorProto`, `GetDenseTensorShape`): the same
 * typing rules per dtype (an int64 needs an integer literal; a float takes
 * any number, NaN and ±Infinity included, rounded to float32; a string takes
 * a JSON string or `{"b64": …}`), the same density checks, and the same
 * error messages.
 */
import { decodeBase64 } from './base64.js';
import { jsonDebugString } from '../json/json-debug-string.js';
import { JsonNumber, JsonObject, jsonTypeName, type JsonValue } from '../json/json-value.js';
import type { DataType } from './signature.js';
import { TfStatusError, invalidArgument } from './tf-status.js';

/**
 * One element of a tensor: strings (bytes from `{"b64": …}` that are not
 * UTF-8 stay bytes), numbers (int64 beyond 2^53 as bigint), booleans.
 */
export type TensorValue = string | Uint8Array | number | bigint | boolean;

/** A dense tensor: row-major values and the shape they fill. */
export interface Tensor {
  readonly dtype: DataType;
  readonly shape: number[];
  readonly values: TensorValue[];
}

const INT32 = [-(2 ** 31), 2 ** 31 - 1] as const;
const UINT32 = [0, 2 ** 32 - 1] as const;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;
const UINT64 = [0n, 2n ** 64n - 1n] as const;

/** TensorFlow's `DataTypeString`: `DT_FLOAT` → `float`. */
export function dataTypeString(dtype: DataType): string {
  return dtype === 'DT_INVALID' ? 'invalid' : dtype.slice(3).toLowerCase();
}

/** The dense shape a JSON value implies: the length of each first element's list. */
export function denseShape(value: JsonValue): number[] {
  const shape: number[] = [];
  let level: JsonValue | undefined = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

/**
 * Appends the leaves of `value` to `out`, checking that it is dense with the
 * given shape (`FillTensorProto`). Returns how many values were added.
 */
export function fillTensorValues(
  value: JsonValue,
  shape: readonly number[],
  dtype: DataType,
  out: TensorValue[],
  level = 0,
): number {
  if (!Array.isArray(value)) {
    if (level !== shape.length) {
      throw invalidArgument(
        `JSON Value: ${jsonDebugString(value)} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${shape.length}`,
      );
    }
    out.push(tensorValue(value, dtype));
    return 1;
  }
  if (level >= shape.length) {
    throw invalidArgument(
      `Encountered list at unexpected level: ${level} expected < ${shape.length}`,
    );
  }
  if (value.length !== shape[level]) {
    throw invalidArgument(
      `Encountered list at unexpected size: ${value.length} at level: ${level} expected size: ${shape[level]}`,
    );
  }
  let count = 0;
  for (const item of value) count += fillTensorValues(item, shape, dtype, out, level + 1);
  return count;
}

/** One leaf value checked against the dtype (`AddValueToTensor`, plus b64 objects). */
export function tensorValue(value: JsonValue, dtype: DataType): TensorValue {
  if (value instanceof JsonObject) {
    if (dtype !== 'DT_STRING') throw typeError(value, dtype);
    return decodeBase64(value);
  }
  switch (dtype) {
    case 'DT_FLOAT':
      if (!(value instanceof JsonNumber)) throw typeError(value, dtype);
      return Math.fround(value.value);
    case 'DT_DOUBLE':
      if (!(value instanceof JsonNumber)) throw typeError(value, dtype);
      return value.value;
    case 'DT_INT8':
    case 'DT_INT16':
    case 'DT_INT32':
    case 'DT_UINT8':
      return smallInteger(value, dtype, INT32);
    case 'DT_UINT32':
      return smallInteger(value, dtype, UINT32);
    case 'DT_INT64':
      return largeInteger(value, dtype, INT64);
    case 'DT_UINT64':
      return largeInteger(value, dtype, UINT64);
    case 'DT_STRING':
      if (typeof value !== 'string') throw typeError(value, dtype);
      return value;
    case 'DT_BOOL':
      if (typeof value !== 'boolean') throw typeError(value, dtype);
      return value;
    default:
      throw new TfStatusError(
        'UNIMPLEMENTED',
        `Conversion of JSON Value: ${jsonDebugString(value)} to type: ${dataTypeString(dtype)}`,
      );
  }
}

/** rapidjson's IsInt / IsUint: an integer literal within 32 bits. */
function smallInteger(
  value: JsonValue,
  dtype: DataType,
  [min, max]: readonly [number, number],
): number {
  if (
    !(value instanceof JsonNumber) ||
    !value.isInteger ||
    value.value < min ||
    value.value > max
  ) {
    throw typeError(value, dtype);
  }
  return value.value;
}

/** rapidjson's IsInt64 / IsUint64; exact beyond 2^53 by keeping those as bigint. */
function largeInteger(
  value: JsonValue,
  dtype: DataType,
  [min, max]: readonly [bigint, bigint],
): number | bigint {
  if (!(value instanceof JsonNumber) || !value.isInteger) throw typeError(value, dtype);
  if (Number.isSafeInteger(value.value)) {
    if (value.value < Number(min) || value.value > Number(max)) throw typeError(value, dtype);
    return value.value;
  }
  const exact = BigInt(value.text);
  if (exact < min || exact > max) throw typeError(value, dtype);
  return exact;
}

function typeError(value: JsonValue, dtype: DataType): TfStatusError {
  return invalidArgument(
    `JSON Value: ${jsonDebugString(value)} Type: ${jsonTypeName(value)} is not of expected type: ${dataTypeString(dtype)}`,
  );
}
