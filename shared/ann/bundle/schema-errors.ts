/**
 * One short reason from TypeBox errors, such as
 * `/inputs/0/dtype: expected one of 'string', 'int64', 'float32', got "int32"`.
 * Bundle problems are read by whoever trained the model, so the reason names
 * the JSON path, what was expected and a bounded preview of what was there.
 */
import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';

const MAX_REPORTED = 3;
const MAX_SCANNED = 100;

/** The first few failing paths of `value` against `schema`, or undefined when it matches. */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ''): string | undefined {
  const reported: string[] = [];
  const seen = new Set<string>();
  let scanned = 0;
  for (const error of Value.Errors(schema, value)) {
    if (++scanned > MAX_SCANNED) break;
    // TypeBox may report several errors for one path; the first says it best.
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    if (reported.length < MAX_REPORTED) {
      reported.push(`${prefix}${error.path || '/'}: ${describe(error)}`);
    }
  }
  if (seen.size === 0) return undefined;
  const more = seen.size - reported.length;
  return more > 0 ? `${reported.join('; ')} (and ${more} more)` : reported.join('; ');
}

function describe(error: ValueError): string {
  if (error.type === ValueErrorType.ObjectRequiredProperty) return 'is required';
  const choices = literalChoices(error.schema);
  if (error.type === ValueErrorType.Union && choices) {
    return `expected one of ${choices}, got ${preview(error.value)}`;
  }
  if (error.type === ValueErrorType.Literal) {
    return `expected ${JSON.stringify((error.schema as { const?: unknown }).const)}, got ${preview(error.value)}`;
  }
  return `${error.message}, got ${preview(error.value)}`;
}

function literalChoices(schema: TSchema): string | undefined {
  const options: unknown = (schema as { anyOf?: unknown }).anyOf;
  if (!Array.isArray(options)) return undefined;
  const values = options.map((o: unknown) => (o as { const?: unknown } | null)?.const);
  return values.every((v) => typeof v === 'string')
    ? values.map((v) => `'${v}'`).join(', ')
    : undefined;
}

/** A bounded, single-line preview of a JSON value for error messages. */
export function preview(value: unknown, maxChars = 60): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = typeof value === 'bigint' ? value.toString() : (JSON.stringify(value) ?? typeof value);
  } catch {
    text = typeof value; // circular structures
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}… (${text.length} chars)` : text;
}
