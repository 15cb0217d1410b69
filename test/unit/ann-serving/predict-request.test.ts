import assert from 'node:assert/strict';
import {
  toInstances,
  type Instance,
} from '../../../services/ann-serving/src/protocol/instances.js';
import {
  decodeInputs,
  parseRequestDocument,
  signatureNameOf,
  type RequestFormat,
} from '../../../services/ann-serving/src/protocol/predict-request.js';
import { requestedK } from '../../../services/ann-serving/src/protocol/requested-k.js';
import {
  sortedTensorMap,
  type DataType,
  type TensorSpec,
} from '../../../services/ann-serving/src/protocol/signature.js';
import { TfStatusError } from '../../../services/ann-serving/src/protocol/tf-status.js';

function inputs(...spec: [string, DataType][]): Map<string, TensorSpec> {
  return sortedTensorMap(
    spec.map(([name, dtype]) => [name, { dtype, shape: [-1], tensorName: `${name}:0` }]),
  );
}

const RECOMMENDER = inputs(
  ['customer_id', 'DT_STRING'],
  ['revenue', 'DT_FLOAT'],
  ['orders', 'DT_INT64'],
);
const SINGLE = inputs(['city', 'DT_STRING']);

function decode(
  body: string,
  signature = RECOMMENDER,
): { format: RequestFormat; instances: Instance[] } {
  const document = parseRequestDocument(Buffer.from(body));
  const { format, tensors } = decodeInputs(document, signature);
  return { format, instances: toInstances(tensors, signature) };
}

function refusal(body: string, signature = RECOMMENDER): string {
  try {
    decode(body, signature);
  } catch (error) {
    assert.ok(error instanceof TfStatusError, String(error));
    assert.equal(error.httpStatus, 400, error.message);
    return error.message;
  }
  assert.fail(`expected ${body} to be refused`);
}

describe('ann-serving predict request decoding', () => {
  it('reads row format into one instance per element', () => {
    const { format, instances } = decode(
      '{"instances":[{"customer_id":"C1","revenue":5000,"orders":3},{"orders":-2,"revenue":0.1,"customer_id":"C2"}]}',
    );
    assert.equal(format, 'row');
    assert.deepEqual(instances, [
      { customer_id: 'C1', revenue: 5000, orders: 3 },
      { customer_id: 'C2', revenue: Math.fround(0.1), orders: -2 },
    ]);
  });

  it('reads columnar format and ignores extra columns', () => {
    const { format, instances } = decode(
      '{"inputs":{"customer_id":["C1","C2"],"revenue":[1.5,2],"orders":[1,2],"unused":[[1]]}}',
    );
    assert.equal(format, 'columnar');
    assert.deepEqual(instances, [
      { customer_id: 'C1', revenue: 1.5, orders: 1 },
      { customer_id: 'C2', revenue: 2, orders: 2 },
    ]);
    assert.deepEqual(
      decode('{"inputs":{"customer_id":[],"revenue":[],"orders":[]}}').instances,
      [],
    );
  });

  it('takes bare values and bare columns for a one-input signature', () => {
    assert.deepEqual(decode('{"instances":["Warsaw",{"b64":"S3Jha8Ozdw=="}]}', SINGLE).instances, [
      { city: 'Warsaw' },
      { city: 'Kraków' },
    ]);
    assert.deepEqual(decode('{"instances":[{"city":"Gdańsk"}]}', SINGLE).instances, [
      { city: 'Gdańsk' },
    ]);
    assert.deepEqual(decode('{"inputs":["Lodz"]}', SINGLE).instances, [{ city: 'Lodz' }]);
    assert.match(
      refusal('{"instances":["Warsaw"]}'),
      /^instances is a plain list, but expecting list of objects/,
    );
    assert.match(
      refusal('{"inputs":["Warsaw"]}'),
      /^inputs is a plain value\/list, but expecting an object/,
    );
  });

  it('decodes b64 strings; bytes that are not UTF-8 stay bytes', () => {
    const { instances } = decode(
      '{"instances":[{"customer_id":{"b64":"QzE="},"revenue":1,"orders":1},{"customer_id":{"b64":"/w"},"revenue":1,"orders":1}]}',
    );
    assert.equal(instances[0]!.customer_id, 'C1');
    assert.deepEqual(instances[1]!.customer_id, new Uint8Array([0xff]));
    assert.equal(
      refusal('{"instances":[{"customer_id":{"b64":"!!"},"revenue":1,"orders":1}]}'),
      "Failed to process element: 0 key: customer_id of 'instances' list. Error: INVALID_ARGUMENT: Unable to base64 decode",
    );
    assert.match(
      refusal('{"instances":[{"customer_id":{"b64":"QzE=","x":1},"revenue":1,"orders":1}]}'),
      /Error: INVALID_ARGUMENT: JSON Value: \{\n {4}"b64": "QzE=",\n {4}"x": 1\n\} not formatted correctly for base64 data$/,
    );
    assert.match(
      refusal('{"instances":[{"customer_id":"C","revenue":{"b64":"QzE="},"orders":1}]}'),
      /Type: Object is not of expected type: float$/,
    );
  });

  it('accepts NaN and ±Infinity for floats (rounded to float32), never for integers', () => {
    const { instances } = decode(
      '{"instances":[{"customer_id":"a","revenue":NaN,"orders":1},{"customer_id":"b","revenue":-Infinity,"orders":1},{"customer_id":"c","revenue":1e39,"orders":1}]}',
    );
    assert.ok(Number.isNaN(instances[0]!.revenue));
    assert.equal(instances[1]!.revenue, -Infinity);
    assert.equal(instances[2]!.revenue, Infinity, 'overflowing float32 becomes Infinity, no error');
    assert.equal(
      refusal('{"instances":[{"customer_id":"a","revenue":1,"orders":NaN}]}'),
      "Failed to process element: 0 key: orders of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: NaN Type: Number is not of expected type: int64",
    );
  });

  it('types values as TF Serving does: integer literals for int64, any number for float', () => {
    const message = (value: string, key = 'orders') => {
      const fields: Record<string, string> = {
        customer_id: '"a"',
        revenue: '1',
        orders: '1',
        [key]: value,
      };
      const members = Object.entries(fields).map(([name, text]) => `"${name}":${text}`);
      return refusal(`{"instances":[{${members.join(',')}}]}`);
    };
    assert.match(message('5.0'), /JSON Value: 5\.0 Type: Number is not of expected type: int64$/);
    assert.match(message('5e0'), /is not of expected type: int64$/);
    assert.match(message('"5"'), /JSON Value: "5" Type: String is not of expected type: int64$/);
    assert.match(message('9223372036854775808'), /is not of expected type: int64$/);
    assert.match(
      message('"5000"', 'revenue'),
      /JSON Value: "5000" Type: String is not of expected type: float$/,
    );
    assert.match(message('true', 'revenue'), /Type: True is not of expected type: float$/);
    assert.match(
      message('null', 'customer_id'),
      /JSON Value: null Type: Null is not of expected type: string$/,
    );
    assert.match(message('7', 'customer_id'), /Type: Number is not of expected type: string$/);
    const big = decode(
      '{"instances":[{"customer_id":"a","revenue":1,"orders":-9223372036854775808}]}',
    );
    assert.equal(big.instances[0]!.orders, -9223372036854775808n);
  });

  it("rejects mixed and malformed request forms with TF Serving's messages", () => {
    const doc = (text: string) => text.replace(/\s/g, '');
    assert.equal(
      refusal('{"instances":[],"inputs":{}}'),
      `JSON Value: {\n    "instances": [],\n    "inputs": {}\n} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist `,
    );
    assert.equal(refusal('{"signature_name":""}'), "Missing 'inputs' or 'instances' key");
    assert.equal(
      refusal('{"instances":{}}'),
      `JSON Value: {\n    "instances": {}\n} Expecting 'instances' to be an list/array`,
    );
    assert.equal(
      refusal('{"instances":[]}'),
      `JSON Value: {\n    "instances": []\n} No values in 'instances' array`,
    );
    assert.equal(refusal('[1]'), 'JSON Value: [1] Is not object');
    assert.equal(refusal(''), 'JSON Parse error: The document is empty');
    assert.equal(refusal('{"instances": [1,'), 'JSON Parse error: Invalid value. at offset: 17');
    // Objects and values cannot be mixed in one instances list.
    assert.equal(
      refusal(doc('{"instances":[{"customer_id":"a","revenue":1,"orders":1},"x"]}')),
      'Expecting object but got list at item 1 of input list',
    );
    assert.equal(
      refusal('{"instances":["a",{"city":"b"}]}', SINGLE),
      'Expecting value/list but got object at item 1 of input list',
    );
  });

  it("requires exactly the signature's inputs in every row, but only the named ones per column", () => {
    assert.equal(
      refusal('{"instances":[{"customer_id":"a","revenue":1,"orders":1,"city":"x"}]}'),
      "Failed to process element: 0 key: city of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: city",
    );
    assert.equal(
      refusal('{"instances":[{"customer_id":"a","revenue":1}]}'),
      `Failed to process element: 0 of 'instances' list. JSON object: {\n    "customer_id": "a",\n    "revenue": 1\n} keys must be equal to: customer_id,orders,revenue`,
    );
    assert.equal(
      refusal('{"inputs":{"customer_id":["a"],"revenue":[1]}}'),
      "Missing named input: orders in 'inputs' object.",
    );
    assert.equal(
      refusal('{"inputs":{"customer_id":["a","b"],"revenue":[1],"orders":[1]}}'),
      'Inputs have different batch sizes: customer_id has 2, orders has 1',
    );
  });

  it('checks shapes: dense lists, one scalar per instance', () => {
    assert.equal(
      refusal(
        '{"instances":[{"customer_id":["a"],"revenue":1,"orders":1},{"customer_id":["a","b"],"revenue":1,"orders":1}]}',
      ),
      "Failed to process element: 1 key: customer_id of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 1 but got: 2",
    );
    assert.equal(
      refusal('{"instances":[{"customer_id":["a"],"revenue":1,"orders":1}]}'),
      'Input: customer_id has shape [1,1] but the signature expects [-1]',
    );
    assert.equal(
      refusal('{"inputs":{"customer_id":[["a"],"b"],"revenue":[1,2],"orders":[1,2]}}'),
      'JSON Value: "b" found at incorrect level: 2 in the JSON DOM. Expected at level: 2',
    );
    assert.equal(
      refusal('{"inputs":{"customer_id":"a","revenue":[1],"orders":[1]}}'),
      'Input: customer_id has shape [] but the signature expects [-1]',
    );
  });

  it('reads signature_name and k', () => {
    assert.equal(signatureNameOf(parseRequestDocument(Buffer.from('{}'))), '');
    assert.equal(signatureNameOf(parseRequestDocument(Buffer.from('{"signature_name":"x"}'))), 'x');
    assert.throws(
      () => signatureNameOf(parseRequestDocument(Buffer.from('{"signature_name":100}'))),
      /'signature_name' key must be a string value\.$/,
    );
    const k = (body: string) => requestedK(parseRequestDocument(Buffer.from(body)), 10, 50);
    assert.equal(k('{}'), 10);
    assert.equal(k('{"k":50}'), 50);
    for (const bad of ['0', '51', '2.0', '"5"', 'null', '-1']) {
      assert.throws(
        () => k(`{"k":${bad}}`),
        (error: unknown) => {
          assert.ok(error instanceof TfStatusError);
          assert.equal(error.httpStatus, 400);
          assert.match(error.message, /'k' must be an integer between 1 and 50$/);
          return true;
        },
      );
    }
  });

  it('keeps an input named __proto__ as data', () => {
    const odd = inputs(['__proto__', 'DT_STRING'], ['revenue', 'DT_FLOAT']);
    const { instances } = decode('{"instances":[{"__proto__":"x","revenue":1}]}', odd);
    assert.equal(Object.getPrototypeOf(instances[0]), Object.prototype);
    assert.deepEqual(Object.keys(instances[0]!), ['__proto__', 'revenue']);
  });
});
