/**
 * Turns TypeBox validation errors into one short, precise reason such as
 * `/run_number: Expected integer, got "3"`. The reason ends up in logs and on
 * run documents, so it names the path, says what was expected and shows a
 * bounded preview of what arrived, never the whole (possibly huge) value.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';

/** Paths reported in one reason; the rest are counted. */
const MAX_REPORTED_PATHS = 3;
/** Errors looked at in total, so a value with thousands of errors stays cheap. */
const MAX_ERRORS_SCANNED = 100;
const PREVIEW_CHARS = 40;

const TYPE_ERRORS = new Set<ValueErrorType>([
  ValueErrorType.Array,
  ValueErrorType.Boolean,
  ValueErrorType.Integer,
  ValueErrorType.Literal,
  ValueErrorType.Number,
  ValueErrorType.Object,
  ValueErrorType.String,
]);

/** One reason listing the first failing paths of `value` against `schema`. */
export function describeSchemaErrors(schema: TSchema, value: unknown): string {
  const reported: string[] = [];
  const paths = new Set<string>();
  let scanned = 0;
  for (const error of Value.Errors(schema, value)) {
    if (++scanned > MAX_ERRORS_SCANNED) break;
    // TypeBox reports "required" and then the type error for the same path; the first one says it.
    if (paths.has(error.path)) continue;
    paths.add(error.path);
    if (reported.length < MAX_REPORTED_PATHS) {
      reported.push(`${error.path === '' ? 'payload' : error.path}: ${messageFor(error)}`);
    }
  }
  if (reported.length === 0) return 'payload does not match the schema';
  const more = paths.size - reported.length;
  return more > 0 ? `${reported.join('; ')} (and ${more} more)` : reported.join('; ');
}

function messageFor(error: ValueError): string {
  const schema = error.schema as Record<string, unknown>;
  if (error.type === ValueErrorType.ObjectRequiredProperty) return 'is required';
  if (
    error.type === ValueErrorType.StringMaxLength ||
    error.type === ValueErrorType.StringMinLength
  ) {
    return `${error.message}, got ${String((error.value as string).length)} chars`;
  }
  const choices = error.type === ValueErrorType.Union ? literalChoices(schema) : undefined;
  if (choices) return `Expected one of ${choices.join(', ')}, got ${preview(error.value)}`;
  if (error.type === ValueErrorType.StringPattern && typeof schema.description === 'string') {
    return `does not have the expected form (${schema.description}), got ${preview(error.value)}`;
  }
  if (TYPE_ERRORS.has(error.type)) return `${error.message}, got ${preview(error.value)}`;
  return error.message;
}

/** The allowed values of an enum-like union of string literals, quoted. */
function literalChoices(schema: Record<string, unknown>): string[] | undefined {
  const options = schema.anyOf;
  if (!Array.isArray(options)) return undefined;
  const values = options.map((option: unknown) =>
    typeof option === 'object' && option !== null
      ? (option as { const?: unknown }).const
      : undefined,
  );
  return values.every((v) => typeof v === 'string')
    ? values.map((v) => `'${String(v)}'`)
    : undefined;
}

/** A bounded description of a value: its type, and its content when it is short and scalar. */
export function preview(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string': {
      const shown = value.length > PREVIEW_CHARS ? `${value.slice(0, PREVIEW_CHARS)}…` : value;
      return `${JSON.stringify(shown)}${value.length > PREVIEW_CHARS ? ` (${value.length} chars)` : ''}`;
    }
    case 'number':
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'nothing';
    default:
      return typeof value;
  }
}
