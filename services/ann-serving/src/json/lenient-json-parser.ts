/**
 * A JSON parser with the leniencies TensorFlow Serving's rapidjson settings
 * allow (kParseNanAndInfFlag | kParseStopWhenDoneFlag), which `JSON.parse`
 * cannot reproduce: bare `NaN`, `Inf`, `Infinity` (optionally negative) are
 * numbers, bytes after the root value are ignored, and integer literals stay
 * distinguishable from `5.0`. Errors carry rapidjson's English messages and a
 * byte offset, so clients see the text TF Serving would send.
 */
import { JsonSyntaxError, decodeUtf8, readJsonString } from './json-string.js';
import { JsonNumber, JsonObject, type JsonValue } from './json-value.js';

export { JsonSyntaxError } from './json-string.js';

/**
 * Deeper documents are refused. rapidjson parses iteratively without a limit,
 * but no tensor a signature accepts nests this deep, and the bound keeps a
 * hostile body from exhausting the stack of this recursive parser.
 */
export const MAX_JSON_DEPTH = 512;

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const TWO_POW_53 = 2 ** 53;

/** Parses the first JSON value of `bytes`; throws JsonSyntaxError. */
export function parseLenientJson(bytes: Uint8Array): JsonValue {
  return new Parser(bytes).document();
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly bytes: Uint8Array) {}

  document(): JsonValue {
    this.skipWhitespace();
    if (this.pos >= this.bytes.length) this.fail('The document is empty.');
    // kParseStopWhenDoneFlag: whatever follows the root value is not read.
    return this.value();
  }

  private value(): JsonValue {
    switch (this.bytes[this.pos]) {
      case 0x7b /* { */:
        return this.object();
      case 0x5b /* [ */:
        return this.array();
      case 0x22 /* " */:
        return this.string();
      case 0x6e /* n */:
        return this.literal('null', null);
      case 0x74 /* t */:
        return this.literal('true', true);
      case 0x66 /* f */:
        return this.literal('false', false);
      default:
        return this.number();
    }
  }

  private object(): JsonObject {
    this.enter();
    this.pos++;
    const keys: string[] = [];
    const values: JsonValue[] = [];
    this.skipWhitespace();
    if (this.peek() === 0x7d /* } */) {
      this.pos++;
      this.depth--;
      return new JsonObject(keys, values);
    }
    for (;;) {
      if (this.peek() !== 0x22) this.fail('Missing a name for object member.');
      keys.push(this.string());
      this.skipWhitespace();
      if (this.peek() !== 0x3a /* : */) this.fail('Missing a colon after a name of object member.');
      this.pos++;
      this.skipWhitespace();
      values.push(this.value());
      this.skipWhitespace();
      const next = this.peek();
      this.pos++;
      if (next === 0x7d) break;
      if (next !== 0x2c /* , */) this.fail("Missing a comma or '}' after an object member.", -1);
      this.skipWhitespace();
    }
    this.depth--;
    return new JsonObject(keys, values);
  }

  private array(): JsonValue[] {
    this.enter();
    this.pos++;
    const items: JsonValue[] = [];
    this.skipWhitespace();
    if (this.peek() === 0x5d /* ] */) {
      this.pos++;
      this.depth--;
      return items;
    }
    for (;;) {
      items.push(this.value());
      this.skipWhitespace();
      const next = this.peek();
      this.pos++;
      if (next === 0x5d) break;
      if (next !== 0x2c) this.fail("Missing a comma or ']' after an array element.", -1);
      this.skipWhitespace();
    }
    this.depth--;
    return items;
  }

  private string(): string {
    const [text, next] = readJsonString(this.bytes, this.pos);
    this.pos = next;
    return text;
  }

  private number(): JsonNumber {
    const start = this.pos;
    const minus = this.peek() === 0x2d; /* - */
    if (minus) this.pos++;
    const first = this.peek();
    if (first === 0x4e /* N */ || first === 0x49 /* I */) return this.nonFinite(start, minus);
    if (first === 0x30 /* 0 */) this.pos++;
    else if (isDigit(first)) while (isDigit(this.peek())) this.pos++;
    else this.fail('Invalid value.');
    let isInteger = true;
    if (this.peek() === 0x2e /* . */) {
      this.pos++;
      if (!isDigit(this.peek())) this.fail('Miss fraction part in number.');
      while (isDigit(this.peek())) this.pos++;
      isInteger = false;
    }
    const e = this.peek();
    if (e === 0x65 || e === 0x45 /* e E */) {
      this.pos++;
      const sign = this.peek();
      if (sign === 0x2b || sign === 0x2d) this.pos++;
      if (!isDigit(this.peek())) this.fail('Miss exponent in number.');
      while (isDigit(this.peek())) this.pos++;
      isInteger = false;
    }
    const text = decodeUtf8(this.bytes, start, this.pos);
    const value = Number(text);
    if (!Number.isFinite(value)) this.failAt('Number too big to be stored in double.', start);
    if (isInteger && Math.abs(value) >= TWO_POW_53) isInteger = fitsInt64OrUint64(text);
    // `-0` is rapidjson's integer 0.
    return new JsonNumber(isInteger && value === 0 ? 0 : value, isInteger, text);
  }

  /** `NaN`, `Inf`, `Infinity`, with an optional minus (rapidjson's kParseNanAndInfFlag). */
  private nonFinite(start: number, minus: boolean): JsonNumber {
    let value: number | undefined;
    if (this.consume('NaN')) value = NaN;
    else if (this.consume('Inf')) {
      value = minus ? -Infinity : Infinity;
      if (this.peek() === 0x69 /* i */ && !this.consume('inity')) this.fail('Invalid value.');
    }
    if (value === undefined) this.fail('Invalid value.');
    const text = decodeUtf8(this.bytes, start, this.pos);
    return new JsonNumber(value, false, text);
  }

  private literal<T>(word: string, value: T): T {
    if (!this.consume(word)) this.fail('Invalid value.');
    return value;
  }

  private consume(word: string): boolean {
    for (let i = 0; i < word.length; i++) {
      if (this.bytes[this.pos + i] !== word.charCodeAt(i)) return false;
    }
    this.pos += word.length;
    return true;
  }

  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) {
      this.fail(`Nesting deeper than ${MAX_JSON_DEPTH} levels is not supported.`);
    }
  }

  private skipWhitespace(): void {
    const bytes = this.bytes;
    let c = bytes[this.pos];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++this.pos];
  }

  private peek(): number | undefined {
    return this.bytes[this.pos];
  }

  private fail(reason: string, adjust = 0): never {
    this.failAt(reason, this.pos + adjust);
  }

  private failAt(reason: string, offset: number): never {
    throw new JsonSyntaxError(reason, Math.min(Math.max(offset, 0), this.bytes.length));
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** rapidjson keeps integer literals in [-2^63, 2^64 - 1] as integers, larger ones as doubles. */
function fitsInt64OrUint64(text: string): boolean {
  const big = BigInt(text);
  return big >= INT64_MIN && big <= UINT64_MAX;
}
