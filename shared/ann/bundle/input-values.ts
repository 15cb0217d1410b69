/**
 * Reads one JSON value of a query-model input the way TensorFlow Serving's
 * JSON layer types it (tensorflow_serving/util/json_tensor.cc): float32 takes
 * any JSON number; int64 an integer (JSON.parse cannot tell `5` from `5.0`, so
 * both pass; fractions fail); string a JSON string or `{"b64": "..."}`.
 */
import type { ManifestInput } from './manifest.js';
import { preview } from './schema-errors.js';

/** A string token, or raw bytes when a b64 value is not valid UTF-8 (it can only be out of vocabulary). */
export type Token = string | Uint8Array;

/** What one value became, or why it was refused (a TF Serving-style reason). */
export type ReadValue =
  | { readonly ok: true; readonly value: number | bigint | Token }
  | { readonly ok: false; readonly reason: string };

/** Options that differ from TF Serving on purpose. */
export interface ValueOptions {
  /**
   * TF Serving accepts NaN and ±Infinity for floats and lets the model return
   * NaN scores. The default refuses them: a NaN query has no nearest neighbours.
   */
  readonly nonFinite?: 'reject' | 'accept';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// Standard or URL-safe alphabet, padding optional; Node's decoder reads both.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads `value` as one element of `input`. */
export function readValue(
  input: ManifestInput,
  value: unknown,
  options: ValueOptions = {},
): ReadValue {
  switch (input.dtype) {
    case 'float32':
      if (typeof value !== 'number') return typeError(value, 'float');
      if (!Number.isFinite(value) && options.nonFinite !== 'accept') {
        return { ok: false, reason: `JSON Value: ${preview(value)} is not a finite float` };
      }
      return { ok: true, value };
    case 'int64':
      if (typeof value === 'bigint') {
        return value >= INT64_MIN && value <= INT64_MAX
          ? { ok: true, value }
          : typeError(value, 'int64');
      }
      if (typeof value !== 'number' || !Number.isInteger(value)) return typeError(value, 'int64');
      if (!Number.isSafeInteger(value)) {
        return {
          ok: false,
          reason: `JSON Value: ${preview(value)} is beyond ±2^53-1 and cannot be read exactly as int64`,
        };
      }
      return { ok: true, value };
    case 'string':
      if (typeof value === 'string') return { ok: true, value };
      return readB64(value);
  }
}

function readB64(value: unknown): ReadValue {
  if (!isB64Object(value)) return typeError(value, 'string');
  const text = value.b64;
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    return { ok: false, reason: 'Unable to base64 decode' };
  }
  const bytes = Buffer.from(text, 'base64');
  try {
    return { ok: true, value: utf8.decode(bytes) };
  } catch {
    return { ok: true, value: new Uint8Array(bytes) };
  }
}

/** `{"b64": "..."}` with no other key, TF Serving's form for binary strings. */
export function isB64Object(value: unknown): value is { b64: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { b64?: unknown }).b64 === 'string'
  );
}

function typeError(value: unknown, expected: string): ReadValue {
  return {
    ok: false,
    reason: `JSON Value: ${preview(value)} Type: ${jsonType(value)} is not of expected type: ${expected}`,
  };
}

/** rapidjson's type names, which TF Serving prints in its messages. */
function jsonType(value: unknown): string {
  if (value === null) return 'Null';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (Array.isArray(value)) return 'Array';
  if (typeof value === 'string') return 'String';
  if (typeof value === 'number' || typeof value === 'bigint') return 'Number';
  return typeof value === 'object' ? 'Object' : typeof value;
}
