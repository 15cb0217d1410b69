/**
 * The per-request k. TF Serving has no such parameter, so it travels as an
 * optional top-level `"k"` key beside `instances`/`inputs`: TF Serving
 * ignores unknown top-level keys, so the same body stays valid against the
 * native TF Serving route (which returns its exported k). It applies to
 * every instance of the request and must be an integer literal in
 * [1, maxK]; without it the manifest's default_k applies.
 */
import { jsonDebugString } from '../json/json-debug-string.js';
import { JsonNumber, type JsonObject } from '../json/json-value.js';
import { invalidArgument } from './tf-status.js';

/** The k a request asks for, or `defaultK`; throws a 400 outside [1, maxK]. */
export function requestedK(document: JsonObject, defaultK: number, maxK: number): number {
  const value = document.get('k');
  if (value === undefined) return defaultK;
  if (value instanceof JsonNumber && value.isInteger && value.value >= 1 && value.value <= maxK) {
    return value.value;
  }
  throw invalidArgument(
    `JSON Value: ${jsonDebugString(value)} 'k' must be an integer between 1 and ${maxK}`,
  );
}
