/**
 * How TF Serving quotes a JSON value inside an error message
 * (`JsonValueToDebugString` in json_tensor.cc): rapidjson's PrettyWriter with
 * 4-space indentation and single-line arrays, cut off once 256 bytes are
 * written. Clients compare these messages, so the layout follows it.
 */
import { JsonNumber, JsonObject, type JsonValue } from './json-value.js';

/** TF Serving's kMaxJsonDebugStringBytes. */
const MAX_DEBUG_BYTES = 256;

/** The value as TF Serving prints it in an error message (possibly truncated). */
export function jsonDebugString(value: JsonValue): string {
  const writer = new LimitedWriter();
  writeValue(value, 0, '', writer);
  return writer.text;
}

class LimitedWriter {
  text = '';
  private bytes = 0;

  /**
   * Like rapidjson's JsonWriterWithLimit: each handler call (with the
   * punctuation it writes before its token) happens only while fewer than
   * 256 bytes are out.
   */
  token(text: string): boolean {
    if (this.bytes >= MAX_DEBUG_BYTES) return false;
    this.text += text;
    this.bytes += Buffer.byteLength(text);
    return true;
  }
}

/** `indent` is the nesting depth in spaces (arrays count, as in rapidjson's level stack). */
function writeValue(value: JsonValue, indent: number, prefix: string, out: LimitedWriter): boolean {
  if (Array.isArray(value)) return writeArray(value, indent, prefix, out);
  if (value instanceof JsonObject) return writeObject(value, indent, prefix, out);
  return out.token(prefix + scalarText(value));
}

function writeArray(
  items: readonly JsonValue[],
  indent: number,
  prefix: string,
  out: LimitedWriter,
): boolean {
  if (!out.token(`${prefix}[`)) return false;
  for (const [i, item] of items.entries()) {
    if (!writeValue(item, indent + 4, i > 0 ? ', ' : '', out)) return false;
  }
  return out.token(']');
}

function writeObject(
  object: JsonObject,
  indent: number,
  prefix: string,
  out: LimitedWriter,
): boolean {
  if (!out.token(`${prefix}{`)) return false;
  const inner = ' '.repeat(indent + 4);
  for (const [i, key] of object.keys.entries()) {
    if (!out.token(`${i > 0 ? ',' : ''}\n${inner}${JSON.stringify(key)}`)) return false;
    if (!writeValue(object.values[i] ?? null, indent + 4, ': ', out)) return false;
  }
  return out.token(object.size > 0 ? `\n${' '.repeat(indent)}}` : '}');
}

function scalarText(value: null | boolean | string | JsonNumber): string {
  if (value instanceof JsonNumber) return numberText(value);
  return JSON.stringify(value);
}

/** rapidjson writes integers as such and doubles shortest-form with a `.0` on whole numbers. */
function numberText(number: JsonNumber): string {
  if (number.isInteger) return number.text.replace(/^-0$/, '0');
  const value = number.value;
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  const text = String(value).replace('e+', 'e');
  return /[.e]/.test(text) ? text : `${text}.0`;
}
