/**
 * TF Serving's REST protocol against the real server: a child process on a
 * loopback port serving a real bundle written by `sample-model` (300
 * products, trained once per test run), over real HTTP. The server's life
 * (start-up index build, SIGTERM, exit codes) is in lifecycle.test.ts.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import {
  assertRanked,
  batchStats,
  errorOf,
  logLine,
  predictionsOf,
} from '../../support/ann-serving/predict-assertions.js';
import {
  parseLenient,
  predict,
  rawRequest,
  type RawResponse,
} from '../../support/ann-serving/raw-http.js';
import { sampleBundle, type SampleBundle } from '../../support/ann-serving/sample-bundle.js';
import {
  startServer,
  waitUntilReady,
  type ServerProcess,
} from '../../support/ann-serving/server-process.js';
import { exampleB64, type FeatureSpec } from '../../support/ann-serving/tf-example-writer.js';

describe('ann-serving protocol (real server, real bundle)', function () {
  this.timeout(120_000);
  let bundle: SampleBundle;
  let server: ServerProcess;
  let port: number;
  let healthBeforeReady: number[];
  const body = (instances: readonly unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({ instances, ...extra });

  before(async () => {
    bundle = await sampleBundle();
    server = await startServer({
      MODEL_PATH: bundle.dir,
      SERVING_MODE: 'ann',
      // Long enough that concurrent requests reliably share batches.
      BATCH_TIMEOUT_MICROS: '3000',
      BATCH_MAX_SIZE: '32',
      MAX_INSTANCES: '16',
      BODY_LIMIT_BYTES: '65536',
    });
    port = server.port;
    healthBeforeReady = await waitUntilReady(server);
  });

  after(async () => {
    await server?.stop();
  });

  it('listens at once: /health is 503 while the model loads, then 200', () => {
    assert.equal(healthBeforeReady[0], 503, `statuses seen: ${healthBeforeReady.join(',')}`);
    assert.equal(healthBeforeReady.at(-1), 200);
    const ready = server.logs.find((line) => line.message === 'model AVAILABLE');
    assert.ok(ready, 'the server logs when the model is AVAILABLE');
    assert.equal(ready.mode, 'ann');
    assert.equal(typeof ready.encoderBackend, 'string');
    assert.equal(ready.catalogueSize, bundle.productIds.length);
  });

  it('reports status and metadata built from the manifest', async () => {
    const status = await rawRequest(port, { path: '/v1/models/recommender' });
    assert.equal(status.status, 200);
    assert.deepEqual(JSON.parse(status.body), {
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    const metadata = await rawRequest(port, { path: '/v1/models/recommender/versions/1/metadata' });
    assert.equal(metadata.status, 200);
    type Signature = {
      inputs: Record<string, { dtype: string }>;
      outputs: Record<string, { dtype: string }>;
    };
    const parsed = JSON.parse(metadata.body) as {
      model_spec: unknown;
      metadata: { signature_def: { signature_def: Record<string, Signature> } };
    };
    assert.deepEqual(parsed.model_spec, { name: 'recommender', signature_name: '', version: '1' });
    const signature = parsed.metadata.signature_def.signature_def.serving_default!;
    const expected = Object.fromEntries(
      bundle.manifest.inputs.map((input) => [
        input.name,
        { string: 'DT_STRING', int64: 'DT_INT64', float32: 'DT_FLOAT' }[input.dtype],
      ]),
    );
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(signature.inputs).map(([name, spec]) => [name, spec.dtype]),
      ),
      expected,
    );
    assert.deepEqual(signature.outputs.product_ids!.dtype, 'DT_INT64');
    assert.deepEqual(signature.outputs.scores!.dtype, 'DT_FLOAT');
  });

  it('predicts in row format with the original product ids, scores descending', async () => {
    const predictions = predictionsOf(await predict(port, body(bundle.examples)));
    assert.equal(predictions.length, bundle.examples.length);
    for (const prediction of predictions)
      assertRanked(prediction, bundle.manifest.default_k, bundle);
    // Ids are product ids (from 100001 up), never row or vocabulary indices.
    assert.ok(predictions.every((p) => p.product_ids.every((id) => Number(id) > 100_000)));
    // Different customers get different recommendations.
    assert.notDeepEqual(predictions[0]!.product_ids, predictions[1]!.product_ids);
  });

  it('answers columnar requests with the same results, as outputs', async () => {
    const columns = Object.fromEntries(
      bundle.manifest.inputs.map((input) => [
        input.name,
        bundle.examples.map((e) => e[input.name]),
      ]),
    );
    const response = await predict(port, JSON.stringify({ inputs: columns }));
    assert.equal(response.status, 200, response.body);
    const outputs = parseLenient<{ outputs: { product_ids: unknown[][]; scores: unknown[][] } }>(
      response.body,
    ).outputs;
    const rows = predictionsOf(await predict(port, body(bundle.examples)));
    assert.deepEqual(
      outputs.product_ids,
      rows.map((row) => row.product_ids),
    );
    assert.deepEqual(
      outputs.scores,
      rows.map((row) => row.scores),
    );
  });

  it("serves the version forms; an unknown version is TF Serving's 404", async () => {
    const instance = body([bundle.examples[0]]);
    const versioned = await predict(port, instance, 'recommender', '/versions/1');
    assert.deepEqual(predictionsOf(versioned), predictionsOf(await predict(port, instance)));
    assert.equal(
      errorOf(await predict(port, instance, 'recommender', '/versions/2'), 404),
      'Servable not found for request: Specific(recommender, 2)',
    );
    assert.equal(
      errorOf(await rawRequest(port, { path: '/v1/models/recommender/versions/2' }), 404),
      'Could not find version 2 of model recommender',
    );
    assert.equal(
      errorOf(await rawRequest(port, { path: '/v1/models/recommender/versions/2/metadata' }), 404),
      'Servable not found for request: Specific(recommender, 2)',
    );
    assert.equal(
      errorOf(await predict(port, instance, 'recommender', '/labels/canary'), 400),
      'Unrecognized servable version label: canary',
    );
  });

  it('reads b64 strings as the strings they encode', async () => {
    const example = bundle.examples[0]!;
    const encoded = Object.fromEntries(
      Object.entries(example).map(([name, value]) => [
        name,
        typeof value === 'string' ? { b64: Buffer.from(value).toString('base64') } : value,
      ]),
    );
    const plain = predictionsOf(await predict(port, body([example])));
    assert.deepEqual(predictionsOf(await predict(port, body([encoded]))), plain);
    const string = bundle.manifest.inputs.find((input) => input.dtype === 'string')!.name;
    // Bytes that are not UTF-8 cannot be in a vocabulary: they hash into an OOV bucket.
    const bytes = { b64: Buffer.from([0xff, 0xfe, 0x41]).toString('base64') };
    const binary = predictionsOf(await predict(port, body([{ ...example, [string]: bytes }])));
    assertRanked(binary[0]!, bundle.manifest.default_k, bundle);
    assert.deepEqual(
      predictionsOf(await predict(port, body([{ ...example, [string]: bytes }]))),
      binary,
    );
    assert.match(
      errorOf(await predict(port, body([{ ...example, [string]: { b64: '!!' } }])), 400),
      /Unable to base64 decode$/,
    );
  });

  it('honours a per-request k within its bound', async () => {
    const example = bundle.examples[0]!;
    const full = predictionsOf(await predict(port, body([example])))[0]!;
    const five = predictionsOf(await predict(port, body([example], { k: 5 })))[0]!;
    assertRanked(five, 5, bundle);
    assert.deepEqual(five.product_ids, full.product_ids.slice(0, 5));
    const maxK = bundle.manifest.max_k ?? 1000;
    const all = predictionsOf(await predict(port, body([example], { k: maxK })))[0]!;
    assert.equal(all.product_ids.length, Math.min(maxK, bundle.productIds.length));
    assert.equal(
      errorOf(await predict(port, body([example], { k: maxK + 1 })), 400),
      `JSON Value: ${maxK + 1} 'k' must be an integer between 1 and ${maxK}`,
    );
    assert.match(
      errorOf(await predict(port, body([example], { k: 2.5 })), 400),
      /'k' must be an integer/,
    );
  });

  it('answers an instance with a NaN or ±Infinity float input with no ranking: NaN scores, placeholder ids, logged', async () => {
    const float = bundle.manifest.inputs.find((input) => input.dtype === 'float32')!.name;
    const example = bundle.examples[0]!;
    const withValue = (token: string, extra: Record<string, unknown> = {}) =>
      body([example, { ...example, [float]: '__value__' }], extra).replace('"__value__"', token);
    // The same batch with a finite value: what the other instance must get.
    const [expected] = predictionsOf(await predict(port, withValue('1000.0')));
    for (const token of ['NaN', 'Infinity', '-Infinity']) {
      const response = await predict(port, withValue(token));
      // Accepted, and the scores written as TF Serving writes them: bare tokens.
      assert.match(response.body, /"scores":\[NaN(,NaN)*\]/, token);
      const [finite, unranked] = predictionsOf(response);
      // The same ranking; scores to float32 rounding (a batch searched with one query fewer).
      assert.deepEqual(finite!.product_ids, expected!.product_ids);
      finite!.scores.forEach((score, i) => {
        assert.ok(Math.abs(Number(score) - Number(expected!.scores[i])) < 1e-6, `score ${i}`);
      });
      const k = bundle.manifest.default_k;
      // Integer product ids: the placeholder is -1, never a product of the catalogue.
      assert.deepEqual(unranked, { product_ids: Array(k).fill(-1), scores: Array(k).fill('NaN') });
    }
    // Not silent: the answer's degenerate-answer line counts it (k = 1: one NaN score, no tie).
    assert.equal(
      predictionsOf(await predict(port, withValue('NaN', { k: 1 })))[1]!.scores[0],
      'NaN',
    );
    const line = await logLine(
      server.logs,
      (entry) => entry.message === 'degenerate answer' && entry.reason === 'nan_scores',
    );
    assert.deepEqual(
      [line.instance, line.ids, line.k, line.degeneratePredictions, line.nanScorePredictions],
      [1, 1, 1, 1, 1],
    );
  });

  it('reads the seed\'s legacy serialized tf.Examples ({"b64": …}) as the same instances in JSON', async () => {
    // Examples written by google-protobuf's BinaryWriter, by field number (tf-example-writer.ts).
    const featuresOf = (instance: Record<string, unknown>): Record<string, FeatureSpec> =>
      Object.fromEntries(
        Object.entries(instance).map(([name, value]): [string, FeatureSpec] => {
          const dtype = bundle.manifest.inputs.find((input) => input.name === name)?.dtype;
          if (dtype === 'string') return [name, { bytes: [String(value)] }];
          if (dtype === 'int64') return [name, { int64s: [Number(value)] }];
          return [name, { floats: [Number(value)] }];
        }),
      );
    const toExample = (instance: Record<string, unknown>) => exampleB64(featuresOf(instance));
    const examples = bundle.examples.slice(0, 4);
    const json = predictionsOf(await predict(port, body(examples)));
    const legacy = predictionsOf(await predict(port, body(examples.map(toExample))));
    assert.deepEqual(legacy, json);
    for (const prediction of legacy) assertRanked(prediction, bundle.manifest.default_k, bundle);
    // TensorFlow's own texts, as 400s with TF Serving's error body.
    const [first] = [...bundle.manifest.inputs.map((input) => input.name)].sort();
    const partial = Object.fromEntries(
      Object.entries(examples[0]!).filter(([name]) => name !== first),
    );
    assert.equal(
      errorOf(await predict(port, body([toExample(examples[0]!), toExample(partial)])), 400),
      `Name: <unknown>, Feature: ${first} (data type: string) is required but could not be found.`,
    );
    const float = bundle.manifest.inputs.find((input) => input.dtype === 'float32')!.name;
    const mistyped = exampleB64({ ...featuresOf(examples[0]!), [float]: { int64s: [5] } });
    assert.equal(
      errorOf(await predict(port, body([mistyped])), 400),
      `Name: <unknown>, Key: ${float}, Index: 0.  Data types don't match. Data type: int64 but expected type: float`,
    );
    const corrupt = { b64: Buffer.from('garbage').toString('base64') };
    assert.equal(
      errorOf(await predict(port, body([corrupt])), 400),
      "Could not parse example input, value: 'garbage'",
    );
  });

  it("answers every kind of client mistake with TF Serving's 4xx, never a 5xx", async () => {
    const example = bundle.examples[0]!;
    const [first, second] = bundle.manifest.inputs.map((input) => input.name).sort();
    const float = bundle.manifest.inputs.find((input) => input.dtype === 'float32')!.name;
    const cases: [RawResponse, number, string | RegExp][] = [
      [await predict(port, ''), 400, 'JSON Parse error: The document is empty'],
      [
        await predict(port, '{"instances": [1,'),
        400,
        /^JSON Parse error: Invalid value\. at offset: \d+$/,
      ],
      [await predict(port, '[]'), 400, 'JSON Value: [] Is not object'],
      [await predict(port, '{}'), 400, "Missing 'inputs' or 'instances' key"],
      [await predict(port, '{"instances":[]}'), 400, /No values in 'instances' array$/],
      [
        await predict(port, '{"instances":[1],"inputs":{}}'),
        400,
        /expecting only one of 'inputs' or 'instances'/,
      ],
      [
        await predict(port, body([{ ...example, extra: 1 }])),
        400,
        /does not have named input: extra$/,
      ],
      [
        await predict(port, body([{ ...example, [first!]: undefined }])),
        400,
        /keys must be equal to:/,
      ],
      [
        await predict(port, JSON.stringify({ inputs: { [second!]: [1] } })),
        400,
        `Missing named input: ${first} in 'inputs' object.`,
      ],
      [
        await predict(port, body([{ ...example, [float]: 'lots' }])),
        400,
        /Type: String is not of expected type: float$/,
      ],
      [
        await predict(port, body([example], { signature_name: 'other' })),
        400,
        'Serving signature name: "other" not found in signature def',
      ],
      [
        await predict(port, body(Array.from({ length: 17 }, () => example))),
        400,
        'Request has 17 instances; at most 16 are accepted per request',
      ],
      [
        await predict(port, body([example]), 'other'),
        404,
        'Servable not found for request: Latest(other)',
      ],
      [
        await rawRequest(port, { path: '/v1/models/other' }),
        404,
        'Could not find any versions of model other',
      ],
      [
        await rawRequest(port, { path: '/v1/models/recommender:predict' }),
        400,
        'Malformed request: GET /v1/models/recommender:predict',
      ],
      [
        await rawRequest(port, { method: 'POST', path: '/v1/models/recommender/metadata' }),
        400,
        'Malformed request: POST /v1/models/recommender/metadata',
      ],
      [
        await rawRequest(port, { method: 'POST', path: '/v1/models/recommender:explain' }),
        400,
        'Malformed request: POST /v1/models/recommender:explain',
      ],
      [await rawRequest(port, { path: '/v1/models' }), 400, 'Missing model name in request.'],
      [
        await predict(port, body([example]), 'recommender', '/versions/99999999999999999999'),
        400,
        'Failed to convert version: 99999999999999999999 to numeric.',
      ],
    ];
    for (const [response, status, message] of cases) {
      const error = errorOf(response, status);
      if (typeof message === 'string') assert.equal(error, message);
      else assert.match(error, message);
    }
    const tooLarge = 'Request body is larger than the limit of 65536 bytes';
    const large = await predict(port, body([example], { padding: 'x'.repeat(70_000) }));
    assert.equal(errorOf(large, 413), tooLarge);
    assert.equal(large.headers.connection, 'close');
    const chunked = await rawRequest(port, {
      method: 'POST',
      path: '/v1/models/recommender:predict',
      body: [
        body([example]).slice(0, -1),
        `,"padding":"${'x'.repeat(40_000)}`,
        `${'y'.repeat(40_000)}"}`,
      ],
    });
    assert.equal(errorOf(chunked, 413), tooLarge);
    const bomb = await rawRequest(port, {
      method: 'POST',
      path: '/v1/models/recommender:predict',
      body: gzipSync(Buffer.alloc(10_000_000, 0x20)),
      headers: { 'Content-Encoding': 'gzip' },
    });
    assert.equal(errorOf(bomb, 413), tooLarge);
    const notRest = await rawRequest(port, { path: '/index.html' });
    assert.equal(notRest.status, 404);
    assert.equal(notRest.headers['content-type'], 'text/html');
  });

  it('reads the body whatever the Content-Type, and gzip bodies', async () => {
    const instance = body([bundle.examples[0]]);
    const expected = predictionsOf(await predict(port, instance));
    for (const headers of [
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      { 'Content-Type': 'text/plain' },
    ]) {
      const response = await rawRequest(port, {
        method: 'POST',
        path: '/v1/models/recommender:predict',
        body: instance,
        headers,
      });
      assert.deepEqual(predictionsOf(response), expected);
    }
    const gzipped = await rawRequest(port, {
      method: 'POST',
      path: '/v1/models/recommender:predict',
      body: gzipSync(instance),
      headers: { 'Content-Encoding': 'gzip' },
    });
    assert.deepEqual(predictionsOf(gzipped), expected);
  });

  it('exports Prometheus metrics: requests by route and outcome, catalogue, backend, mode', async () => {
    await predict(port, body([bundle.examples[0]]));
    await predict(port, '{');
    const response = await rawRequest(port, { path: '/metrics' });
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    const text = response.body;
    const backend = server.logs.find((line) => line.message === 'model AVAILABLE')?.encoderBackend;
    assert.match(
      text,
      new RegExp(`^ann_serving_encoder_backend\\{backend="${String(backend)}"\\} 1$`, 'm'),
    );
    assert.match(text, /^ann_serving_search_mode\{mode="ann"\} 1$/m);
    assert.match(text, new RegExp(`^ann_serving_catalogue_size ${bundle.productIds.length}$`, 'm'));
    assert.match(text, /^ann_serving_model_ready 1$/m);
    assert.match(text, /^ann_serving_requests_total\{route="predict",outcome="ok"\} [1-9]\d*$/m);
    assert.match(
      text,
      /^ann_serving_requests_total\{route="predict",outcome="client_error"\} [1-9]\d*$/m,
    );
    assert.match(
      text,
      /^ann_serving_request_duration_seconds_bucket\{le="0.005",route="predict",outcome="ok"\} \d+$/m,
    );
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
  });

  it('micro-batches concurrent requests (batch-size histogram shows batches > 1)', async () => {
    const before = await batchStats(port);
    const responses = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        predict(port, body([bundle.examples[i % bundle.examples.length]])),
      ),
    );
    for (const response of responses)
      assertRanked(predictionsOf(response)[0]!, bundle.manifest.default_k, bundle);
    const after = await batchStats(port);
    const batches = after.count - before.count;
    const instances = after.sum - before.sum;
    assert.equal(instances, 64);
    assert.ok(batches < 64, `64 requests ran in ${batches} batches`);
    assert.ok(
      after.count - after.singles > before.count - before.singles,
      'some batch held more than one instance',
    );
    // Identical instances get identical answers whichever batch they were in.
    const first = predictionsOf(responses[0]!)[0];
    assert.deepEqual(predictionsOf(responses[bundle.examples.length]!)[0], first);
  });
});
