/**
 * Validates a payload against a TypeBox schema and returns the typed value or
 * a precise rejection. Unknown extra fields are kept: schemas leave
 * `additionalProperties` open, and the returned value is the full JSON copy.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { accepted, excerptOf, invalid, withContext, type ParseResult } from '../result.js';
import { describeSchemaErrors } from './describe-errors.js';
import { toJsonData, type JsonData } from './json-data.js';

/** Reads the business key from a payload that failed validation, when it is readable. */
export type KeyReader = (data: unknown) => string | undefined;

/** Copies `payload` to plain JSON and validates the copy. */
export function validateAgainstSchema<S extends TSchema>(
  schema: S,
  payload: unknown,
  readKey?: KeyReader,
): ParseResult<Static<S>> {
  const json = toJsonData(payload);
  if (!json.ok) return json;
  return checkJsonData(schema, json.value, readKey);
}

/** Validates data that is already a detached JSON copy. */
export function checkJsonData<S extends TSchema>(
  schema: S,
  data: JsonData,
  readKey?: KeyReader,
): ParseResult<Static<S>> {
  if (Value.Check(schema, data.value)) return accepted(data.value);
  return withContext(invalid(describeSchemaErrors(schema, data.value)), {
    excerpt: excerptOf(data.text),
    idempotencyKey: readKey?.(data.value),
  });
}

/**
 * A string field of a JSON object when it is present and matches `pattern`:
 * the way rejections read a business key out of a payload that failed
 * validation, without trusting anything else in it.
 */
export function readStringField(data: unknown, field: string, pattern: RegExp): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  if (!Object.hasOwn(data, field)) return undefined;
  const value = (data as Record<string, unknown>)[field];
  return typeof value === 'string' && pattern.test(value) ? value : undefined;
}
