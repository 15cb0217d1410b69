/**
 * Small readers for envelope fields, each returning a precise rejection that
 * names the field (`message.messageId must be a string, got number`). Each
 * field is read once into a local, so a getter cannot answer one value to the
 * check and another to the code that uses it.
 */
import { preview } from '../validation/describe-errors.js';
import { accepted, invalid, type ParseResult } from '../result.js';

/** A non-null, non-array object. */
export type FieldRecord = Readonly<Record<string, unknown>>;

/** True for objects that are not arrays (what JSON calls an object). */
export function isRecord(value: unknown): value is FieldRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An optional string field of at most `maxChars` characters. */
export function optionalString(
  value: unknown,
  path: string,
  maxChars: number,
): ParseResult<string | undefined> {
  if (value === undefined) return accepted(undefined);
  if (typeof value !== 'string') return invalid(`${path} must be a string, got ${preview(value)}`);
  if (value.length > maxChars) {
    return invalid(`${path} is ${value.length} characters, more than the ${maxChars} allowed`);
  }
  return accepted(value);
}

/** A required, non-empty string field of at most `maxChars` characters. */
export function requiredString(
  value: unknown,
  path: string,
  maxChars: number,
): ParseResult<string> {
  if (value === undefined || value === '') return invalid(`${path} is missing`);
  const read = optionalString(value, path, maxChars);
  return read.ok ? accepted(read.value ?? '') : read;
}

/**
 * A field Pub/Sub deliveries carry twice (`messageId` and `message_id`):
 * either spelling is accepted; when both are present they must agree.
 */
export function duplicatedString(
  record: FieldRecord,
  camel: string,
  snake: string,
  prefix: string,
  maxChars: number,
): ParseResult<string> {
  const camelValue = record[camel];
  const snakeValue = record[snake];
  if (camelValue === undefined && snakeValue === undefined) {
    return invalid(`${prefix}.${camel} is missing (neither ${camel} nor ${snake} is present)`);
  }
  if (camelValue !== undefined && snakeValue !== undefined && camelValue !== snakeValue) {
    return invalid(
      `${prefix}.${camel} and ${prefix}.${snake} disagree (${preview(camelValue)} vs ${preview(snakeValue)})`,
    );
  }
  return camelValue !== undefined
    ? requiredString(camelValue, `${prefix}.${camel}`, maxChars)
    : requiredString(snakeValue, `${prefix}.${snake}`, maxChars);
}
