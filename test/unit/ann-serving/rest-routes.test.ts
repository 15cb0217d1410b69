import assert from 'node:assert/strict';
import {
  isRestPath,
  parseRestRoute,
  percentDecode,
  type RestRoute,
} from '../../../services/ann-serving/src/protocol/rest-routes.js';
import { TfStatusError } from '../../../services/ann-serving/src/protocol/tf-status.js';

function refusal(method: string, path: string): TfStatusError {
  try {
    parseRestRoute(method, path);
  } catch (error) {
    assert.ok(error instanceof TfStatusError, String(error));
    return error;
  }
  assert.fail(`${method} ${path} should not route`);
}

const latest = { kind: 'latest' } as const;

describe('ann-serving URL routing (TF Serving ParseModelInfo)', () => {
  it('routes status, metadata and the three verbs with every version form', () => {
    const table: [string, string, RestRoute][] = [
      ['GET', '/v1/models/m', { api: 'status', model: 'm', choice: latest }],
      [
        'GET',
        '/v1/models/m/versions/7',
        { api: 'status', model: 'm', choice: { kind: 'version', version: 7n } },
      ],
      [
        'GET',
        '/v1/models/m/labels/stable',
        { api: 'status', model: 'm', choice: { kind: 'label', label: 'stable' } },
      ],
      ['GET', '/v1/models/m/metadata', { api: 'metadata', model: 'm', choice: latest }],
      [
        'GET',
        '/v1/models/m/versions/7/metadata',
        { api: 'metadata', model: 'm', choice: { kind: 'version', version: 7n } },
      ],
      [
        'GET',
        '/v1/models/m/labels/a/metadata',
        { api: 'metadata', model: 'm', choice: { kind: 'label', label: 'a' } },
      ],
      ['POST', '/v1/models/m:predict', { api: 'predict', model: 'm', choice: latest }],
      [
        'POST',
        '/v1/models/m/versions/3:predict',
        { api: 'predict', model: 'm', choice: { kind: 'version', version: 3n } },
      ],
      [
        'POST',
        '/v1/models/m/labels/canary:predict',
        { api: 'predict', model: 'm', choice: { kind: 'label', label: 'canary' } },
      ],
      ['POST', '/v1/models/m:classify', { api: 'classify', model: 'm', choice: latest }],
      ['POST', '/v1/models/m:regress', { api: 'regress', model: 'm', choice: latest }],
      // The path regex is case-insensitive; the "metadata" subresource is then compared exactly.
      ['POST', '/V1/MODELS/m:predict', { api: 'predict', model: 'm', choice: latest }],
      ['GET', '/v1/models/m/METADATA', { api: 'status', model: 'm', choice: latest }],
      // Names and labels are URL-decoded (curl_easy_unescape: bad escapes stay as written).
      ['GET', '/v1/models/my%20model', { api: 'status', model: 'my model', choice: latest }],
      ['POST', '/v1/models/a%2Fb:predict', { api: 'predict', model: 'a/b', choice: latest }],
      ['POST', '/v1/models/%zz+1:predict', { api: 'predict', model: '%zz+1', choice: latest }],
      // The query string is part of the path TF Serving matches: it becomes part of a GET's name.
      ['GET', '/v1/models/m?x=1', { api: 'status', model: 'm?x=1', choice: latest }],
      // "versions" is a valid model name when nothing follows it.
      ['GET', '/v1/models/versions', { api: 'status', model: 'versions', choice: latest }],
    ];
    for (const [method, path, expected] of table) {
      assert.deepEqual(parseRestRoute(method, path), expected, `${method} ${path}`);
    }
  });

  it("answers every malformed form with TF Serving's exact 400 text", () => {
    const malformed: [string, string][] = [
      ['GET', '/v1/foo'],
      ['POST', '/v1/foo'],
      ['GET', '/v1/models/debug/model_name'],
      ['POST', '/v1/models'],
      ['GET', '/v1/models/'],
      ['GET', '/v1/models/foo:predict'],
      ['GET', '/v1/models/foo/version/50:predict'],
      ['POST', '/v1/models/foo/version/50:regress'],
      ['POST', '/v1/models/foo/versions/HELLO:regress'],
      ['POST', '/v1/models/foo/metadata'],
      ['POST', '/v1/models/foo/label/some_label:regress'],
      ['POST', '/v1/models/foo/versions/1/labels/a:predict'],
      ['POST', '/v1/models/foo:explain'],
      ['POST', '/v1/models/foo:PREDICT'],
      ['POST', '/v1/models/foo:predict?k=5'],
      ['POST', '/v1/models/foo:predict/'],
      ['PUT', '/v1/models/foo:predict'],
      ['DELETE', '/v1/models/foo'],
      ['HEAD', '/v1/models/foo'],
      ['PATCH', '/v1/models/foo'],
      ['GET', '/v1/models/foo/versions/-1'],
      ['GET', '/v1/models/foo/versions/1.5'],
    ];
    for (const [method, path] of malformed) {
      const error = refusal(method, path);
      assert.equal(error.code, 'INVALID_ARGUMENT');
      assert.equal(error.httpStatus, 400);
      assert.equal(error.message, `Malformed request: ${method} ${path}`);
    }
  });

  it('has no list-models endpoint: GET /v1/models is "Missing model name"', () => {
    const error = refusal('GET', '/v1/models');
    assert.equal(error.httpStatus, 400);
    assert.equal(error.message, 'Missing model name in request.');
    // Also when only a version is given (the regex makes the name optional).
    assert.equal(refusal('GET', '/v1/models/versions/3').message, 'Missing model name in request.');
  });

  it('refuses versions beyond int64', () => {
    const error = refusal('POST', '/v1/models/m/versions/9223372036854775808:predict');
    assert.equal(error.message, 'Failed to convert version: 9223372036854775808 to numeric.');
    assert.deepEqual(parseRestRoute('GET', '/v1/models/m/versions/9223372036854775807').choice, {
      kind: 'version',
      version: 9223372036854775807n,
    });
  });

  it('owns /v1/ paths only, in any case', () => {
    assert.ok(isRestPath('/v1/models'));
    assert.ok(isRestPath('/V1/anything?x'));
    assert.ok(isRestPath('/v1/'));
    assert.ok(!isRestPath('/v1'));
    assert.ok(!isRestPath('/statuspage'));
    assert.ok(!isRestPath('//v1/models'));
  });

  it('decodes percent escapes into UTF-8 and never throws', () => {
    assert.equal(percentDecode('%C5%81%C3%B3d%C5%BA'), 'Łódź');
    assert.equal(percentDecode('100%'), '100%');
    assert.equal(percentDecode('%E2%82'), '\ufffd');
    assert.equal(percentDecode('Ł%41'), 'ŁA');
  });
});
