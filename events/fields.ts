/**
 * Field schemas shared by the event contracts. Every string is bounded so an
 * oversized field is rejected with a clear reason instead of reaching a
 * registry label, a Firestore document id or a log line.
 */
import { Type, type SchemaOptions, type TLiteral, type TUnion } from '@sinclair/typebox';

/** Longest id (training run, endpoint, registry version...). */
export const MAX_ID_CHARS = 128;
/** Longest URI or resource name. */
export const MAX_URI_CHARS = 1024;
/** Longest free-text field (reasons, details). */
export const MAX_TEXT_CHARS = 1024;

/**
 * Ids become part of the run document id `{model_endpoint_id}-{training_run_id}`,
 * so no `/` (Firestore path separator) and no whitespace or control characters.
 */
const ID_CHARS = '[A-Za-z0-9][A-Za-z0-9._:-]'; // first character, then the repeatable class
const ID_FORM = 'letters, digits, ".", "_", ":" and "-", starting with a letter or digit';
/** Matches a well-formed id; used to read keys out of payloads that failed validation. */
export const ID_PATTERN = new RegExp(`^${ID_CHARS}{0,${MAX_ID_CHARS - 1}}$`);
/** Matches a well-formed run id (`{model_endpoint_id}-{training_run_id}`). */
export const RUN_ID_PATTERN = new RegExp(`^${ID_CHARS}{0,${2 * MAX_ID_CHARS}}$`);

/** An opaque identifier. */
export const Id = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: MAX_ID_CHARS,
    pattern: `^${ID_CHARS}*$`,
    description: `${description}: ${ID_FORM}`,
  });

/** A run id: two ids joined by a dash, hence twice the id length plus one. */
export const RunId = Type.String({
  minLength: 1,
  maxLength: 2 * MAX_ID_CHARS + 1,
  pattern: `^${ID_CHARS}*$`,
  description: `the run id, {model_endpoint_id}-{training_run_id}: ${ID_FORM}`,
});

/**
 * One path segment of an artifact URI. The path becomes a bucket prefix and a
 * local directory (ann-serving's cache, the local artifact store), so a
 * segment may not climb or vanish: not `.` or `..`, not empty (`//`), no
 * backslash, whitespace or control character, and no percent-escape of `.`,
 * `/`, `\`, `%` or a control character (C1 ones are `%c2%80`–`%c2%9f`), nor a
 * malformed one, so no round of decoding yields those either; and no half
 * of a surrogate pair (written to read the same with and without the `u`
 * flag: TypeBox compiles patterns without it, ajv with it). Cloud Storage
 * itself only forbids the names `.` and `..` and CR/LF
 * (https://cloud.google.com/storage/docs/objects#naming); the readers check
 * again, segment by segment (shared/domain/object-name.ts).
 */
const URI_SEGMENT = String.raw`(?!\.\.?(?:/|$))(?:[\ud800-\udbff][\udc00-\udfff]|[^/\\\s%\u0000-\u001f\u007f-\u009f\ud800-\udfff]|%(?!2[eEfF]|5[cC]|25|[01][0-9a-fA-F]|7[fF]|[cC]2%[89][0-9a-fA-F])[0-9a-fA-F]{2})+`;

/** A gs:// or file:// URI: the only places a model bundle may come from. */
export const ArtifactUri = Type.String({
  minLength: 1,
  maxLength: MAX_URI_CHARS,
  // The bucket (or file:// and the path's leading slash), then segments, then at most one `/`.
  pattern: `^(?:gs://[a-z0-9][a-z0-9._-]{1,221}|file://(?=/))(?:/${URI_SEGMENT})*/?$`,
  description:
    'the versioned pushed_model directory: a gs://bucket/path or file:///path URI ' +
    'with no empty, "." or ".." path segment (nor an encoded one)',
});

/** An http(s) URL (Cloud Run URLs are https; the local stack serves http on loopback). */
export const HttpUrl = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: MAX_URI_CHARS,
    pattern: '^https?://[^\\s/?#]+([/?#]\\S*)?$',
    description: `${description}: an http:// or https:// URL`,
  });

/**
 * An RFC 3339 timestamp. A pattern rather than `format: date-time`, so any
 * JSON Schema validator checks it without a formats plug-in.
 */
export const DateTime = (description: string) =>
  Type.String({
    maxLength: 64,
    pattern:
      '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])[Tt]([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(\\.\\d{1,9})?([Zz]|[+-]([01]\\d|2[0-3]):[0-5]\\d)$',
    description: `${description}: an RFC 3339 timestamp such as 2026-01-19T16:49:46Z`,
  });

/** Bounded free text. */
export const Text = (description: string) =>
  Type.String({ maxLength: MAX_TEXT_CHARS, description });

/** The contract version every event carries. A breaking change gets a new `.v2` file and "2". */
export const SchemaVersion1 = Type.Literal('1', {
  description:
    'contract version; additive changes keep "1", breaking changes get a new schema file and version',
});

/** An enum of strings as a union of literals, so the TypeScript type is the exact union. */
export function OneOf<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((value: T[number]) => Type.Literal(value)),
    options,
  );
}
