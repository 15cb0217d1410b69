import assert from 'node:assert/strict';
import { PermanentError } from '@recdeploy/shared';
import {
  concatPrepared,
  createPreprocessor,
  fingerprint64,
  prepareInputs,
  type Manifest,
  type PreparedInputs,
} from '@recdeploy/shared/ann';
import { validManifest, validVocabularies } from '../../support/ann/manifest-fixture.js';

const manifest = validManifest();
const vocabularies = validVocabularies();
const valid = { customer_id: 'C2', city: 'Krakow', revenue: 1500 };

function column(prepared: PreparedInputs, name: string): number[] {
  const found = prepared.columns.find((c) => c.name === name);
  assert.ok(found, `no column ${name}`);
  return Array.from(found.values);
}

/** The INPUT.INVALID message thrown by `run`. */
function inputError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof PermanentError, `expected PermanentError, got ${String(error)}`);
    assert.equal(error.code, 'INPUT.INVALID');
    return error.message;
  }
  assert.fail('expected INPUT.INVALID');
}

const rows = (instances: unknown) => () =>
  createPreprocessor(manifest, vocabularies).instances(instances);

describe('preprocessing (TensorFlow Transform semantics)', () => {
  describe('vocabulary lookup', () => {
    it('maps a known token to its line number in the vocabulary file', () => {
      const prepared = prepareInputs(manifest, vocabularies, [
        valid,
        { ...valid, customer_id: 'C4', city: 'Warsaw' },
      ]);
      assert.equal(prepared.count, 2);
      assert.deepEqual(column(prepared, 'customer_id'), [1, 3]);
      assert.deepEqual(column(prepared, 'city'), [1, 0]);
      assert.equal(prepared.columns[0]!.dtype, 'int32');
    });

    it('hashes an unknown token into vocab_size + Fingerprint64(token) mod num_oov_buckets', () => {
      // Fingerprint64('a') mod 10 = 9 (TensorFlow's own test); the vocabulary has 4 tokens.
      const prepared = prepareInputs(manifest, vocabularies, [{ ...valid, customer_id: 'a' }]);
      assert.deepEqual(column(prepared, 'customer_id'), [4 + 9]);
      const other = prepareInputs(manifest, vocabularies, [{ ...valid, customer_id: 'C-NEW-7' }]);
      assert.deepEqual(column(other, 'customer_id'), [4 + Number(fingerprint64('C-NEW-7') % 10n)]);
    });

    it('refuses an unknown token when the input has no OOV buckets (TFT would give -1)', () => {
      const message = inputError(rows([valid, { ...valid, city: 'Lisbon' }]));
      assert.equal(
        message,
        `Failed to process element: 1 key: city of 'instances' list. Error: Invalid argument: value "Lisbon" is not in the vocabulary of "city" and the model has no OOV buckets`,
      );
    });

    it('looks int64 values up by their decimal text and hashes that text when unknown', () => {
      const intManifest = validManifest({
        inputs: [
          {
            name: 'store',
            dtype: 'int64',
            preprocessing: { kind: 'vocabulary', vocabulary_file: 's.txt', num_oov_buckets: 3 },
          },
        ],
      });
      const vocab = new Map([['store', ['10', '20', '30']]]);
      const prepared = prepareInputs(intManifest, vocab, [
        { store: 20 },
        { store: 7 },
        { store: 9007199254740993n },
      ]);
      assert.deepEqual(column(prepared, 'store'), [
        1,
        3 + Number(fingerprint64('7') % 3n),
        3 + Number(fingerprint64('9007199254740993') % 3n),
      ]);
    });
  });

  describe('z-score and identity', () => {
    it('applies (x - mean) / std in float32 arithmetic, as TFT does on a float32 feature', () => {
      const prepared = prepareInputs(manifest, vocabularies, [valid, { ...valid, revenue: 0.1 }]);
      const expected = Math.fround(Math.fround(Math.fround(0.1) - 1000) / 250);
      assert.deepEqual(column(prepared, 'revenue'), [2, expected]);
      assert.equal(prepared.columns[2]!.dtype, 'float32');
    });

    it('accepts an integer literal for a float input, and z-scores int64 inputs', () => {
      const m = validManifest({
        inputs: [
          { name: 'age', dtype: 'int64', preprocessing: { kind: 'z_score', mean: 40, std: 10 } },
          { name: 'score', dtype: 'float32', preprocessing: { kind: 'identity' } },
          { name: 'rank', dtype: 'int64', preprocessing: { kind: 'identity' } },
        ],
      });
      const prepared = prepareInputs(m, new Map(), [{ age: 55, score: 3, rank: -12 }]);
      assert.deepEqual(column(prepared, 'age'), [1.5]);
      assert.deepEqual(column(prepared, 'score'), [3]);
      assert.deepEqual(column(prepared, 'rank'), [-12]);
      assert.equal(prepared.columns[2]!.dtype, 'int32');
      assert.match(
        inputError(() => prepareInputs(m, new Map(), [{ age: 1, score: 1, rank: 2 ** 40 }])),
        /does not fit int32/,
      );
    });
  });

  describe('b64 strings', () => {
    it('decodes {"b64": …} as UTF-8 before the lookup', () => {
      const b64 = Buffer.from('Gdansk').toString('base64');
      const prepared = prepareInputs(manifest, vocabularies, [{ ...valid, city: { b64 } }]);
      assert.deepEqual(column(prepared, 'city'), [2]);
    });

    it('accepts the URL-safe alphabet and missing padding', () => {
      const prepared = prepareInputs(manifest, vocabularies, [
        { ...valid, customer_id: { b64: 'QzM' } },
      ]);
      assert.deepEqual(column(prepared, 'customer_id'), [2]); // "C3"
    });

    it('hashes bytes that are not UTF-8 into an OOV bucket, byte for byte', () => {
      const bytes = Uint8Array.from([0xff, 0xfe, 0x41]);
      const prepared = prepareInputs(manifest, vocabularies, [
        { ...valid, customer_id: { b64: Buffer.from(bytes).toString('base64') } },
      ]);
      assert.deepEqual(column(prepared, 'customer_id'), [4 + Number(fingerprint64(bytes) % 10n)]);
    });

    it('refuses bad base64 and b64 objects with other keys', () => {
      assert.match(
        inputError(rows([{ ...valid, city: { b64: 'not base64!' } }])),
        /key: city .*Unable to base64 decode$/,
      );
      assert.match(
        inputError(rows([{ ...valid, city: { b64: 'QQ==', x: 1 } }])),
        /JSON Value: \{"b64":"QQ==","x":1\} Type: Object is not of expected type: string/,
      );
    });
  });

  describe('validation (TF Serving row format)', () => {
    const cases: ReadonlyArray<[string, unknown, string | RegExp]> = [
      ['instances that are not a list', { a: 1 }, "Expecting 'instances' to be an list/array"],
      ['an empty list', [], "No values in 'instances' array"],
      [
        'a bare value with several inputs',
        ['C1'],
        /^instances is a plain list, but expecting list of objects/,
      ],
      [
        'a missing input',
        [valid, { customer_id: 'C1', city: 'Warsaw' }],
        /^Failed to process element: 1 of 'instances' list\. JSON object: .* keys must be equal to: customer_id,city,revenue \(missing: revenue\)$/,
      ],
      [
        'an extra input',
        [{ ...valid, coupon: 'X' }],
        "Failed to process element: 0 of 'instances' list. JSON object: does not have named input: coupon",
      ],
      [
        'a string for a float',
        [{ ...valid, revenue: '1500' }],
        `Failed to process element: 0 key: revenue of 'instances' list. Error: Invalid argument: JSON Value: "1500" Type: String is not of expected type: float`,
      ],
      [
        'a number for a string',
        [{ ...valid, city: 7 }],
        /key: city .*JSON Value: 7 Type: Number is not of expected type: string$/,
      ],
      [
        'null',
        [{ ...valid, city: null }],
        /JSON Value: null Type: Null is not of expected type: string$/,
      ],
      [
        'a boolean',
        [{ ...valid, revenue: true }],
        /JSON Value: true Type: True is not of expected type: float$/,
      ],
      [
        'a list instead of a scalar',
        [{ ...valid, revenue: [1] }],
        /JSON Value: \[1\] Type: Array is not of expected type: float$/,
      ],
      [
        'NaN for a float (refused by default)',
        [{ ...valid, revenue: NaN }],
        /key: revenue .*is not a finite float$/,
      ],
    ];
    for (const [name, instances, expected] of cases) {
      it(`refuses ${name}`, () => {
        const message = inputError(rows(instances));
        if (typeof expected === 'string') assert.equal(message, expected);
        else assert.match(message, expected);
      });
    }

    it('refuses a fraction or an unsafe integer for int64', () => {
      const m = validManifest({
        inputs: [{ name: 'rank', dtype: 'int64', preprocessing: { kind: 'identity' } }],
      });
      const run = (value: unknown) => () =>
        createPreprocessor(m, new Map()).instances([{ rank: value }]);
      assert.match(
        inputError(run(5.5)),
        /JSON Value: 5.5 Type: Number is not of expected type: int64$/,
      );
      assert.match(inputError(run(2 ** 60)), /cannot be read exactly as int64$/);
      assert.match(inputError(run(2n ** 63n)), /is not of expected type: int64$/);
    });

    it('accepts NaN and Infinity for floats when asked to, as TF Serving does', () => {
      const p = createPreprocessor(manifest, vocabularies, { nonFinite: 'accept' });
      assert.ok(Number.isNaN(column(p.instances([{ ...valid, revenue: NaN }]), 'revenue')[0]));
      assert.equal(
        column(p.instances([{ ...valid, revenue: -Infinity }]), 'revenue')[0],
        -Infinity,
      );
    });

    it('takes bare values or named objects when the model has one input', () => {
      const single: Manifest = validManifest({ inputs: [manifest.inputs[1]!] });
      const p = createPreprocessor(single, vocabularies);
      assert.deepEqual(
        column(p.instances(['Gdansk', { city: 'Warsaw' }, { b64: 'S3Jha293' }]), 'city'),
        [2, 0, 1],
      );
    });

    it('bounds the echo of a huge instance in the message', () => {
      const message = inputError(rows([{ customer_id: 'C1', city: 'x'.repeat(10_000) }]));
      assert.ok(message.length < 400, `message has ${message.length} chars`);
    });
  });

  describe('columnar format', () => {
    const columns = (inputs: unknown) => () =>
      createPreprocessor(manifest, vocabularies).columns(inputs);

    it('prepares name → list inputs and ignores extra names, as TF Serving does', () => {
      const prepared = columns({
        customer_id: ['C1', 'C3'],
        city: ['Gdansk', 'Warsaw'],
        revenue: [1000, 1250],
        extra: [1],
      })();
      assert.equal(prepared.count, 2);
      assert.deepEqual(column(prepared, 'customer_id'), [0, 2]);
      assert.deepEqual(column(prepared, 'revenue'), [0, 1]);
    });

    it('refuses a missing input, lists of different lengths and a bad value', () => {
      assert.equal(
        inputError(columns({ customer_id: ['C1'], city: ['Warsaw'] })),
        "Missing named input: revenue in 'inputs' object.",
      );
      assert.match(
        inputError(columns({ customer_id: ['C1'], city: ['Warsaw', 'Gdansk'], revenue: [1] })),
        /different batch sizes: customer_id has 1 values, city has 2/,
      );
      assert.match(
        inputError(columns({ customer_id: ['C1'], city: ['Warsaw'], revenue: ['x'] })),
        /^Failed to process input: revenue at index 0 of 'inputs'\. .*is not of expected type: float$/,
      );
      assert.match(
        inputError(columns(['C1'])),
        /^inputs is a plain value\/list, but expecting an object/,
      );
      assert.match(
        inputError(columns({ customer_id: 'C1', city: ['Warsaw'], revenue: [1] })),
        /Input: customer_id of 'inputs' must be a list/,
      );
    });
  });

  it('joins prepared batches for micro-batching', () => {
    const p = createPreprocessor(manifest, vocabularies);
    const joined = concatPrepared([
      p.instances([valid]),
      p.instances([{ ...valid, customer_id: 'C3' }, valid]),
    ]);
    assert.equal(joined.count, 3);
    assert.deepEqual(column(joined, 'customer_id'), [1, 2, 1]);
    assert.deepEqual(column(joined, 'revenue'), [2, 2, 2]);
  });
});
