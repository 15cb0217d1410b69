/**
 * The seed guide's legacy input, `{"instances": [{"b64": "<serialized
 * tf.Example>"}]}`, decoded against a signature. The Examples are written by
 * google-protobuf's BinaryWriter (test/support/ann-serving/tf-example-writer.ts),
 * not by the protobufjs schema the server decodes with.
 */
import assert from 'node:assert/strict';
import { toInstances } from '../../../services/ann-serving/src/protocol/instances.js';
import {
  decodeInputs,
  parseRequestDocument,
} from '../../../services/ann-serving/src/protocol/predict-request.js';
import {
  sortedTensorMap,
  type DataType,
  type TensorSpec,
} from '../../../services/ann-serving/src/protocol/signature.js';
import { TfStatusError } from '../../../services/ann-serving/src/protocol/tf-status.js';
import { exampleB64, type ExampleSpec } from '../../support/ann-serving/tf-example-writer.js';

function signature(...spec: [string, DataType, number[]?][]): Map<string, TensorSpec> {
  return sortedTensorMap(
    spec.map(([name, dtype, shape]) => [
      name,
      { dtype, shape: shape ?? [-1], tensorName: `${name}:0` },
    ]),
  );
}

const RECOMMENDER = signature(
  ['customer_id', 'DT_STRING'],
  ['revenue', 'DT_FLOAT'],
  ['orders', 'DT_INT64'],
);

/** A request body whose instances are the given Examples (or other values, as JSON). */
function body(...examples: (ExampleSpec | { b64: string })[]): string {
  const instances = examples.map((e) =>
    'b64' in e && typeof e.b64 === 'string' ? e : exampleB64(e as ExampleSpec),
  );
  return JSON.stringify({ instances });
}

function decode(text: string, inputs = RECOMMENDER) {
  return decodeInputs(parseRequestDocument(Buffer.from(text)), inputs);
}

function refusal(text: string, inputs = RECOMMENDER): string {
  try {
    decode(text, inputs);
  } catch (error) {
    assert.ok(error instanceof TfStatusError, String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.httpStatus, 400);
    return error.message;
  }
  assert.fail(`expected ${text} to be refused`);
}

const CUSTOMER = {
  customer_id: { bytes: ['C1'] },
  revenue: { floats: [5000.5] },
  orders: { int64s: [3] },
} as const;

describe('ann-serving tf.Example input (legacy b64 instances)', () => {
  it('fills scalar inputs from bytes, float and int64 features, as the same JSON instance would', () => {
    const second: ExampleSpec = {
      orders: { int64s: [-9_007_199_254_740_993n], packed: false },
      customer_id: { bytes: [new Uint8Array([0xff, 0x41])] },
      revenue: { floats: [0.1], packed: false },
      ignored: { floats: [1, 2, 3] },
    };
    const decoded = decode(body(CUSTOMER, second));
    assert.equal(decoded.format, 'row');
    const instances = toInstances(decoded.tensors, RECOMMENDER);
    assert.deepEqual(instances, [
      { customer_id: 'C1', revenue: 5000.5, orders: 3 },
      {
        customer_id: new Uint8Array([0xff, 0x41]),
        revenue: Math.fround(0.1),
        orders: -9_007_199_254_740_993n,
      },
    ]);
    const json = decode('{"instances":[{"customer_id":"C1","revenue":5000.5,"orders":3}]}');
    assert.deepEqual(toInstances(json.tensors, RECOMMENDER)[0], instances[0]);
  });

  it('fills list inputs ([-1, n]) with n values per instance, row-major', () => {
    const lists = signature(
      ['tags', 'DT_STRING', [-1, 2]],
      ['weights', 'DT_FLOAT', [-1, 3]],
      ['ids', 'DT_INT64', [-1, 2]],
    );
    const text = body(
      { tags: { bytes: ['a', 'b'] }, weights: { floats: [1, 2, 3] }, ids: { int64s: [7, 8] } },
      {
        tags: { bytes: ['c', 'd'] },
        weights: { floats: [4, NaN, -Infinity] },
        ids: { int64s: [9, 10] },
      },
    );
    const tensors = decode(text, lists).tensors;
    assert.deepEqual(tensors.get('tags'), {
      dtype: 'DT_STRING',
      shape: [2, 2],
      values: ['a', 'b', 'c', 'd'],
    });
    assert.deepEqual(tensors.get('weights'), {
      dtype: 'DT_FLOAT',
      shape: [2, 3],
      values: [1, 2, 3, 4, NaN, -Infinity],
    });
    assert.deepEqual(tensors.get('ids'), {
      dtype: 'DT_INT64',
      shape: [2, 2],
      values: [7, 8, 9, 10],
    });
    assert.equal(
      refusal(
        body({ tags: { bytes: ['a'] }, weights: { floats: [1, 2, 3] }, ids: { int64s: [7, 8] } }),
        lists,
      ),
      'Name: <unknown>, Key: tags, Index: 0.  Number of bytes values != expected.  Values size: 1 but output shape: [2]',
    );
  });

  it("refuses a missing feature with TensorFlow's text (an empty Feature counts as missing)", () => {
    // example_proto_fast_parsing.cc, FastParseSerializedExample: "Handle missing dense features".
    const withoutOrders = { customer_id: CUSTOMER.customer_id, revenue: CUSTOMER.revenue };
    assert.equal(
      refusal(body(CUSTOMER, withoutOrders)),
      'Name: <unknown>, Feature: orders (data type: int64) is required but could not be found.',
    );
    assert.equal(
      refusal(body({ ...CUSTOMER, revenue: { empty: true } })),
      'Name: <unknown>, Feature: revenue (data type: float) is required but could not be found.',
    );
    assert.equal(
      refusal(body({})),
      'Name: <unknown>, Feature: customer_id (data type: string) is required but could not be found.',
    );
  });

  it('refuses a feature of the wrong type or with the wrong number of values, naming the instance', () => {
    // FastParseSerializedExample: example_error(…"Data types don't match…") and shape_error.
    assert.equal(
      refusal(body(CUSTOMER, { ...CUSTOMER, revenue: { int64s: [5000] } })),
      "Name: <unknown>, Key: revenue, Index: 1.  Data types don't match. Data type: int64 but expected type: float",
    );
    assert.equal(
      refusal(body({ ...CUSTOMER, customer_id: { floats: [1] } })),
      "Name: <unknown>, Key: customer_id, Index: 0.  Data types don't match. Data type: float but expected type: string",
    );
    assert.equal(
      refusal(body({ ...CUSTOMER, orders: { bytes: ['3'] } })),
      "Name: <unknown>, Key: orders, Index: 0.  Data types don't match. Data type: string but expected type: int64",
    );
    assert.equal(
      refusal(body({ ...CUSTOMER, orders: { int64s: [3, 4] } })),
      'Name: <unknown>, Key: orders, Index: 0.  Number of int64 values != expected.  Values size: 2 but output shape: []',
    );
    assert.equal(
      refusal(body(CUSTOMER, CUSTOMER, { ...CUSTOMER, revenue: { floats: [] } })),
      'Name: <unknown>, Key: revenue, Index: 2.  Number of float values != expected.  Values size: 0 but output shape: []',
    );
  });

  it('refuses bytes that are not an Example, and bad base64, with 400', () => {
    const corrupt = { b64: Buffer.from('not an example').toString('base64') };
    assert.equal(
      refusal(body(CUSTOMER, corrupt)),
      "Could not parse example input, value: 'not an example'",
    );
    const whole = Buffer.from(exampleB64(CUSTOMER).b64, 'base64');
    const truncated = { b64: whole.subarray(0, whole.length - 3).toString('base64') };
    assert.match(refusal(body(truncated)), /^Could not parse example input, value: '/);
    assert.equal(
      refusal(body(CUSTOMER, { b64: '!!' })),
      "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Unable to base64 decode",
    );
    assert.equal(
      refusal(body(CUSTOMER), signature(['flag', 'DT_BOOL'], ['revenue', 'DT_FLOAT'])),
      'Invalid config dtype: bool',
    );
  });

  it('keeps every other request on its old path', () => {
    // A one-string-input signature: bare b64 values are that input's strings.
    const city = signature(['city', 'DT_STRING']);
    const strings = decode(body({ b64: Buffer.from('Kraków').toString('base64') }), city);
    assert.deepEqual(toInstances(strings.tensors, city), [{ city: 'Kraków' }]);
    // A one-float-input signature reads Examples.
    const revenue = signature(['revenue', 'DT_FLOAT']);
    const floats = decode(body({ revenue: { floats: [2.5] } }), revenue);
    assert.deepEqual(toInstances(floats.tensors, revenue), [{ revenue: 2.5 }]);
    // Examples mixed with named objects: the row format's own complaint, as before.
    assert.equal(
      refusal(
        JSON.stringify({
          instances: [exampleB64(CUSTOMER), { customer_id: 'C', revenue: 1, orders: 1 }],
        }),
      ),
      'Expecting value/list but got object at item 1 of input list',
    );
  });
});
