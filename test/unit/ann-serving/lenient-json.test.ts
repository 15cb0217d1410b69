import assert from 'node:assert/strict';
import { jsonDebugString } from '../../../services/ann-serving/src/json/json-debug-string.js';
import fc from 'fast-check';
import { formatFloat32, formatG } from '../../../services/ann-serving/src/json/float-format.js';
import {
  JsonSyntaxError,
  MAX_JSON_DEPTH,
  parseLenientJson,
} from '../../../services/ann-serving/src/json/lenient-json-parser.js';
import {
  JsonNumber,
  JsonObject,
  type JsonValue,
} from '../../../services/ann-serving/src/json/json-value.js';

const parse = (text: string): JsonValue => parseLenientJson(Buffer.from(text));

function syntaxError(text: string): JsonSyntaxError {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof JsonSyntaxError, `expected JsonSyntaxError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

function num(text: string): JsonNumber {
  const value = parse(text);
  assert.ok(value instanceof JsonNumber);
  return value;
}

describe('ann-serving lenient JSON parser', () => {
  it('reads what JSON.parse reads, objects in document order', () => {
    const value = parse('{"b": [1, 2.5, "x\\u00e9\\n", true, false, null], "a": {}}');
    assert.ok(value instanceof JsonObject);
    assert.deepEqual(value.keys, ['b', 'a']);
    const list = value.get('b') as JsonValue[];
    assert.equal((list[0] as JsonNumber).value, 1);
    assert.equal((list[1] as JsonNumber).value, 2.5);
    assert.deepEqual(list.slice(2), ['xé\n', true, false, null]);
  });

  it('keeps integer literals apart from 5.0 and 5e0, as rapidjson does', () => {
    assert.equal(num('5').isInteger, true);
    assert.equal(num('-0').isInteger, true);
    assert.ok(Object.is(num('-0').value, 0), '-0 is the integer 0');
    assert.equal(num('5.0').isInteger, false);
    assert.equal(num('5e0').isInteger, false);
    // int64/uint64 range: integers; beyond: doubles.
    assert.equal(num('18446744073709551615').isInteger, true);
    assert.equal(num('-9223372036854775808').isInteger, true);
    assert.equal(num('18446744073709551616').isInteger, false);
    assert.equal(num('-9223372036854775809').isInteger, false);
    assert.equal(num('9007199254740993').text, '9007199254740993', 'exact text kept beyond 2^53');
  });

  it('accepts NaN, Inf and Infinity, with a sign (kParseNanAndInfFlag)', () => {
    assert.ok(Number.isNaN(num('NaN').value));
    assert.equal(num('Infinity').value, Infinity);
    assert.equal(num('-Infinity').value, -Infinity);
    assert.equal(num('Inf').value, Infinity);
    assert.equal(num('-Inf').value, -Infinity);
    const list = parse('[NaN, -Infinity]') as JsonNumber[];
    assert.ok(Number.isNaN(list[0]!.value));
    assert.equal(syntaxError('Nan').reason, 'Invalid value.');
    assert.equal(syntaxError('Infinit').reason, 'Invalid value.');
  });

  it('ignores whatever follows the root value (kParseStopWhenDoneFlag)', () => {
    const value = parse('{"instances":[1]} junk');
    assert.ok(value instanceof JsonObject);
    assert.ok(parse('  7 8') instanceof JsonNumber);
  });

  it('keeps duplicate and __proto__ keys as data', () => {
    const value = parse('{"__proto__": 1, "a": 2, "a": 3}') as JsonObject;
    assert.deepEqual(value.keys, ['__proto__', 'a', 'a']);
    assert.equal((value.get('a') as JsonNumber).value, 2, 'the first member wins, as FindMember');
    assert.equal(Object.getPrototypeOf(value), JsonObject.prototype);
  });

  it('refuses malformed documents with rapidjson messages and byte offsets', () => {
    const cases: [string, string, number][] = [
      ['   ', 'The document is empty.', 3],
      ['instances = [1, 2]', 'Invalid value.', 0],
      ['{"a" 1}', 'Missing a colon after a name of object member.', 5],
      ['{"a": 1,}', 'Missing a name for object member.', 8],
      ['{1: 2}', 'Missing a name for object member.', 1],
      ['{"a": 1 "b": 2}', "Missing a comma or '}' after an object member.", 8],
      ['[1 2]', "Missing a comma or ']' after an array element.", 3],
      ['[1,]', 'Invalid value.', 3],
      ['"abc', 'Missing a closing quotation mark in string.', 4],
      ['"a\tb"', 'Invalid encoding in string.', 2],
      ['"\\x"', 'Invalid escape character in string.', 1],
      ['"\\u12G4"', 'Incorrect hex digit after \\u escape in string.', 5],
      ['"\\ud800x"', 'The surrogate pair in string is invalid.', 7],
      ['1.', 'Miss fraction part in number.', 2],
      ['1e+', 'Miss exponent in number.', 3],
      ['1e400', 'Number too big to be stored in double.', 0],
      ['-', 'Invalid value.', 1],
      ['tru', 'Invalid value.', 0],
    ];
    for (const [text, reason, offset] of cases) {
      const error = syntaxError(text);
      assert.equal(error.reason, reason, text);
      assert.equal(error.offset, offset, text);
      assert.equal(error.message, `JSON Parse error: ${reason} at offset: ${offset}`);
    }
  });

  it('decodes escapes and surrogate pairs, and multi-byte UTF-8 with byte offsets', () => {
    assert.equal(parse('"\\ud83d\\ude00 \\"\\\\\\/\\b\\f\\r\\t"'), '😀 "\\/\b\f\r\t');
    assert.equal(parse('"Łódź"'), 'Łódź');
    // "Ł" is two bytes, so the missing comma is reported at byte 6, not character 5.
    assert.equal(syntaxError('["Ł" 1]').offset, 6);
  });

  it('bounds nesting instead of exhausting the stack', () => {
    assert.ok(Array.isArray(parse('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))));
    const error = syntaxError('['.repeat(200_000));
    assert.match(error.reason, /Nesting deeper than 512 levels/);
  });
});

describe('ann-serving JSON debug strings (error messages)', () => {
  it('prints like rapidjson PrettyWriter with single-line arrays', () => {
    const value = parse('{"instances":[{"a":1,"b":[1.5,"x"]}],"k":5.0}');
    assert.equal(
      jsonDebugString(value),
      '{\n    "instances": [{\n            "a": 1,\n            "b": [1.5, "x"]\n        }],\n    "k": 5.0\n}',
    );
    assert.equal(jsonDebugString(parse('[NaN, -Inf, 1e300]')), '[NaN, -Infinity, 1e300]');
    assert.equal(jsonDebugString(parse('{}')), '{}');
  });

  it('stops once 256 bytes are out', () => {
    const text = jsonDebugString(
      parse(`[${Array.from({ length: 500 }, () => '"abcdefgh"').join(',')}]`),
    );
    assert.ok(text.length >= 256 && text.length < 280, `length ${text.length}`);
    assert.ok(text.startsWith('["abcdefgh", "abcdefgh"'));
  });
});

describe('ann-serving float output (WriteDecimal)', () => {
  it('prints 6 significant digits when they round-trip to the same float32, else 9', () => {
    assert.equal(formatFloat32(Math.fround(0.5)), '0.5');
    assert.equal(formatFloat32(Math.fround(0.2)), '0.2');
    assert.equal(formatFloat32(Math.fround(0.912345678)), '0.912345707');
    assert.equal(formatFloat32(Math.fround(1435774380)), '1.43577434e+09');
  });

  it('adds .0 to whole numbers, keeps exponent form as %g writes it', () => {
    assert.equal(formatFloat32(3), '3.0');
    assert.equal(formatFloat32(999999), '999999.0');
    assert.equal(formatFloat32(9e6), '9e+06');
    assert.equal(formatFloat32(Math.fround(3e-5)), '3e-05');
    assert.equal(formatFloat32(0), '0.0');
    assert.equal(formatFloat32(-0), '-0.0');
    assert.equal(formatFloat32(-2.5), '-2.5');
  });

  it('matches a plain reading of printf %g for any float32, at 6 and 9 digits', () => {
    /** %g by the C standard's rule: exponent X of the %e form; fixed if -4 <= X < P. */
    const referenceG = (x: number, p: number): string => {
      const [mantissa, exp] = x.toExponential(p - 1).split('e') as [string, string];
      const X = Number(exp);
      const strip = (t: string) => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
      if (X < -4 || X >= p)
        return `${strip(mantissa)}e${X < 0 ? '-' : '+'}${String(Math.abs(X)).padStart(2, '0')}`;
      return strip(x.toFixed(p - 1 - X));
    };
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
        if (x === 0) return;
        assert.equal(formatG(x, 6), referenceG(x, 6));
        assert.equal(formatG(x, 9), referenceG(x, 9));
      }),
      { numRuns: 5000 },
    );
    for (const x of [0.0001, 0.00009999999, 9.9999996e-5, 1e-7, 123456, 1234567, 999999.5]) {
      assert.equal(formatG(x, 6), referenceG(x, 6), String(x));
    }
  });

  it('writes non-finite values as bare tokens', () => {
    assert.equal(formatFloat32(NaN), 'NaN');
    assert.equal(formatFloat32(Infinity), 'Infinity');
    assert.equal(formatFloat32(-Infinity), '-Infinity');
  });
});
