/**
 * The document a predict body parses into. It keeps what TensorFlow Serving's
 * rapidjson DOM keeps and `JSON.parse` loses: whether a number was written as
 * an integer literal (`5` is an int64, `5.0` is not), the exact text of large
 * integers, non-finite numbers, and duplicate or `__proto__` object keys.
 */

/** A number literal: its double value and whether it was an in-range integer literal. */
export class JsonNumber {
  constructor(
    /** The value as a double (NaN and ±Infinity included). */
    readonly value: number,
    /**
     * True for an integer literal (no fraction, no exponent) within
     * [-2^63, 2^64 - 1], the literals rapidjson stores as integers.
     */
    readonly isInteger: boolean,
    /** The literal as written, for integers beyond 2^53 and for messages. */
    readonly text: string,
  ) {}
}

/** An object with its members in document order; duplicates are kept. */
export class JsonObject {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly JsonValue[],
  ) {}

  get size(): number {
    return this.keys.length;
  }

  /** The first member named `key`, as rapidjson's FindMember finds it. */
  get(key: string): JsonValue | undefined {
    const index = this.keys.indexOf(key);
    return index < 0 ? undefined : this.values[index];
  }

  has(key: string): boolean {
    return this.keys.includes(key);
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonObject | JsonValue[];

/** rapidjson's type names, as TF Serving prints them in type errors. */
export function jsonTypeName(value: JsonValue): string {
  if (value === null) return 'Null';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return 'String';
  if (value instanceof JsonNumber) return 'Number';
  if (value instanceof JsonObject) return 'Object';
  return 'Array';
}

/** `{"b64": "<string>"}` with no other member: a binary string value, not a named-input object. */
export function isBase64Object(value: JsonValue): boolean {
  return (
    value instanceof JsonObject &&
    value.size === 1 &&
    value.keys[0] === 'b64' &&
    typeof value.values[0] === 'string'
  );
}
