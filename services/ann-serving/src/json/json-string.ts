/**
 * JSON string literals read from raw bytes, with rapidjson's error messages
 * and byte offsets: unescaped control characters are "Invalid encoding",
 * `\u` escapes need four hex digits and well-formed surrogate pairs. Bytes
 * are not validated as UTF-8 (rapidjson does not either); the decoder
 * replaces invalid sequences with U+FFFD.
 */

/** A syntax error: rapidjson's message and the byte offset it reports. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`JSON Parse error: ${reason} at offset: ${offset}`);
    this.name = 'JsonSyntaxError';
  }
}

const decoder = new TextDecoder();

const SIMPLE_ESCAPES = new Map<number, string>([
  [0x22, '"'],
  [0x5c, '\\'],
  [0x2f, '/'],
  [0x62, '\b'],
  [0x66, '\f'],
  [0x6e, '\n'],
  [0x72, '\r'],
  [0x74, '\t'],
]);

/** Bytes as text (for literals already scanned). */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  return decoder.decode(bytes.subarray(start, end));
}

/** Reads the string whose opening quote is at `quote`; returns it and the index after its closing quote. */
export function readJsonString(bytes: Uint8Array, quote: number): [string, number] {
  const start = quote + 1;
  // Fast path: no escapes, so the bytes between the quotes are the string.
  for (let i = start; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x22) return [decodeUtf8(bytes, start, i), i + 1];
    if (c === 0x5c /* \ */ || c < 0x20) break;
  }
  return readEscapedString(bytes, start);
}

function readEscapedString(bytes: Uint8Array, start: number): [string, number] {
  let out = '';
  let runStart = start;
  let i = start;
  for (;;) {
    if (i >= bytes.length)
      throw new JsonSyntaxError('Missing a closing quotation mark in string.', i);
    const c = bytes[i]!;
    if (c === 0x22) return [out + decodeUtf8(bytes, runStart, i), i + 1];
    if (c < 0x20) {
      const reason =
        c === 0 ? 'Missing a closing quotation mark in string.' : 'Invalid encoding in string.';
      throw new JsonSyntaxError(reason, i);
    }
    if (c !== 0x5c) {
      i++;
      continue;
    }
    out += decodeUtf8(bytes, runStart, i);
    const [text, next] = readEscape(bytes, i + 1);
    out += text;
    i = runStart = next;
  }
}

/** Decodes the escape after a backslash at `at`; returns its text and the next index. */
function readEscape(bytes: Uint8Array, at: number): [string, number] {
  const c = bytes[at];
  const simple = c === undefined ? undefined : SIMPLE_ESCAPES.get(c);
  if (simple !== undefined) return [simple, at + 1];
  if (c !== 0x75 /* u */) throw new JsonSyntaxError('Invalid escape character in string.', at - 1);
  const unit = hex4(bytes, at + 1);
  const badPair = (offset: number) =>
    new JsonSyntaxError('The surrogate pair in string is invalid.', offset);
  if (unit >= 0xdc00 && unit <= 0xdfff) throw badPair(at + 5);
  if (unit < 0xd800 || unit > 0xdbff) return [String.fromCharCode(unit), at + 5];
  // A high surrogate must be followed by an escaped low surrogate.
  if (bytes[at + 5] !== 0x5c || bytes[at + 6] !== 0x75) throw badPair(at + 5);
  const low = hex4(bytes, at + 7);
  if (low < 0xdc00 || low > 0xdfff) throw badPair(at + 11);
  return [String.fromCharCode(unit, low), at + 11];
}

function hex4(bytes: Uint8Array, at: number): number {
  let unit = 0;
  for (let i = at; i < at + 4; i++) {
    const digit = hexValue(bytes[i]);
    if (digit < 0) throw new JsonSyntaxError('Incorrect hex digit after \\u escape in string.', i);
    unit = unit * 16 + digit;
  }
  return unit;
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
