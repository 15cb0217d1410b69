import assert from 'node:assert/strict';
import { RecordingLogger } from '@recdeploy/shared';
import { BatchedPredictor } from '../../../services/ann-serving/src/batching/batched-predictor.js';
import { createRestApi, type RestApi } from '../../../services/ann-serving/src/http/rest-api.js';
import type { RestResponse } from '../../../services/ann-serving/src/http/rest-types.js';
import { ServingMetrics } from '../../../services/ann-serving/src/metrics/serving-metrics.js';
import { ModelSlot } from '../../../services/ann-serving/src/model/model-slot.js';
import { FakeServingModel } from '../../support/ann-serving/fake-serving-model.js';

interface Harness {
  readonly api: RestApi;
  readonly slot: ModelSlot;
  readonly model: FakeServingModel;
  readonly metrics: ServingMetrics;
  readonly logger: RecordingLogger;
  shuttingDown: boolean;
  call(
    method: string,
    url: string,
    body?: string,
    headers?: Record<string, string>,
  ): Promise<RestResponse>;
}

function harness(options: { loaded?: boolean; maxEnqueuedBatches?: number } = {}): Harness {
  const slot = new ModelSlot('recommender', 1);
  const model = new FakeServingModel();
  if (options.loaded ?? true) slot.ready(model);
  const metrics = new ServingMetrics();
  const logger = new RecordingLogger();
  let predictor: BatchedPredictor | undefined;
  const state = { shuttingDown: false };
  const api = createRestApi({
    slot,
    metrics,
    logger,
    limits: { maxInstances: 4, maxRequestCost: 10 },
    isShuttingDown: () => state.shuttingDown,
    predictorFor: (m) =>
      (predictor ??= new BatchedPredictor(m, {
        maxBatchSize: 4,
        timeoutMicros: 0,
        maxEnqueuedBatches: options.maxEnqueuedBatches ?? 4,
      })),
    onShed: () => metrics.observeShed(),
  });
  return Object.assign(state, {
    api,
    slot,
    model,
    metrics,
    logger,
    call: (method: string, url: string, body = '', headers: Record<string, string> = {}) =>
      api({ method, url, headers, body: Buffer.from(body) }),
  });
}

function errorOf(response: RestResponse): string {
  assert.equal(response.headers['Content-Type'], 'application/json');
  const body = JSON.parse(response.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['error']);
  return body.error as string;
}

const ROW = '{"instances":[{"customer_id":"C1","revenue":2}]}';

describe('ann-serving REST API (fake model)', () => {
  it('reports model status as TF Serving prints it, LOADING then AVAILABLE', async () => {
    const h = harness({ loaded: false });
    const loading = await h.call('GET', '/v1/models/recommender');
    assert.equal(loading.status, 200);
    assert.deepEqual(JSON.parse(loading.body), {
      model_version_status: [
        { version: '1', state: 'LOADING', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    h.slot.ready(h.model);
    for (const url of [
      '/v1/models/recommender',
      '/v1/models/recommender/versions/1',
      '/v1/models/recommender/labels/any',
    ]) {
      const response = await h.call('GET', url);
      assert.equal(response.status, 200, url);
      assert.equal(
        (JSON.parse(response.body) as { model_version_status: { state: string }[] })
          .model_version_status[0]!.state,
        'AVAILABLE',
      );
    }
    assert.equal(
      errorOf(await h.call('GET', '/v1/models/other')),
      'Could not find any versions of model other',
    );
    const version = await h.call('GET', '/v1/models/recommender/versions/2');
    assert.equal(version.status, 404);
    assert.equal(errorOf(version), 'Could not find version 2 of model recommender');
  });

  it('serves metadata with the doubled signature_def map and int64 strings', async () => {
    const h = harness();
    const response = await h.call('GET', '/v1/models/recommender/versions/1/metadata');
    assert.equal(response.status, 200);
    const body = JSON.parse(response.body) as {
      model_spec: unknown;
      metadata: {
        signature_def: {
          signature_def: Record<
            string,
            {
              inputs: Record<string, unknown>;
              outputs: Record<string, unknown>;
              method_name: string;
            }
          >;
        };
      };
    };
    assert.deepEqual(body.model_spec, { name: 'recommender', signature_name: '', version: '1' });
    const signature = body.metadata.signature_def.signature_def.serving_default!;
    assert.equal(signature.method_name, 'tensorflow/serving/predict');
    assert.deepEqual(Object.keys(signature.inputs), ['customer_id', 'revenue']);
    assert.deepEqual(signature.inputs.revenue, {
      dtype: 'DT_FLOAT',
      tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false },
      name: 'serving_default_revenue:0',
    });
    assert.deepEqual(Object.keys(signature.outputs), ['product_ids', 'scores']);
    assert.ok(body.metadata.signature_def.signature_def.__saved_model_init_op);
    assert.equal((await h.call('GET', '/v1/models/x/metadata')).status, 404);
    assert.equal(
      errorOf(await h.call('GET', '/v1/models/x/metadata')),
      'Servable not found for request: Latest(x)',
    );
    assert.equal(
      errorOf(await h.call('GET', '/v1/models/recommender/versions/9/metadata')),
      'Servable not found for request: Specific(recommender, 9)',
    );
    const label = await h.call('GET', '/v1/models/recommender/labels/stable/metadata');
    assert.equal(label.status, 400);
    assert.equal(errorOf(label), 'Unrecognized servable version label: stable');
  });

  it('predicts in row and columnar form, writing floats and NaN as TF Serving does', async () => {
    const h = harness();
    const row = await h.call(
      'POST',
      '/v1/models/recommender:predict',
      '{"instances":[{"customer_id":"C1","revenue":3},{"customer_id":"C2","revenue":NaN}],"k":2}',
    );
    assert.equal(row.status, 200);
    assert.equal(
      row.body,
      '{"predictions":[{"product_ids":["P1","P2"],"scores":[3.0,1.5]},{"product_ids":["P1","P2"],"scores":[NaN,NaN]}]}',
    );
    const columnar = await h.call(
      'POST',
      '/v1/models/recommender/versions/1:predict',
      '{"inputs":{"customer_id":["C1"],"revenue":[1]}}',
    );
    assert.equal(columnar.status, 200);
    assert.equal(
      columnar.body,
      '{"outputs":{"product_ids":[["P1","P2","P3"]],"scores":[[1.0,0.5,0.333333343]]}}',
    );
    const empty = await h.call(
      'POST',
      '/v1/models/recommender:predict',
      '{"inputs":{"customer_id":[],"revenue":[]}}',
    );
    assert.equal(empty.body, '{"outputs":{"product_ids":[],"scores":[]}}');
  });

  it("answers in TF Serving's order: a bad body before an unknown model", async () => {
    const h = harness();
    const badJson = await h.call('POST', '/v1/models/nope:predict', '{"instances": [');
    assert.equal(badJson.status, 400);
    assert.match(errorOf(badJson), /^JSON Parse error: Invalid value\. at offset: 15$/);
    const unknown = await h.call('POST', '/v1/models/nope:predict', '{"instances":[1]}');
    assert.equal(unknown.status, 404);
    assert.equal(errorOf(unknown), 'Servable not found for request: Latest(nope)');
    const version = await h.call('POST', '/v1/models/recommender/versions/3:predict', ROW);
    assert.equal(errorOf(version), 'Servable not found for request: Specific(recommender, 3)');
    assert.equal(
      errorOf(await h.call('POST', '/v1/models/recommender/labels/x:predict', ROW)),
      'Unrecognized servable version label: x',
    );
    assert.equal(
      errorOf(
        await h.call(
          'POST',
          '/v1/models/recommender:predict',
          '{"signature_name":"other","instances":[1]}',
        ),
      ),
      'Serving signature name: "other" not found in signature def',
    );
    assert.equal(
      errorOf(
        await h.call(
          'POST',
          '/v1/models/recommender:predict',
          '{"signature_name":"__saved_model_init_op","instances":[1]}',
        ),
      ),
      'Failed to get input map for signature: __saved_model_init_op',
    );
    assert.equal(
      errorOf(await h.call('POST', '/v1/models/recommender:classify', '{"examples":[{}]}')),
      'Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/predict',
    );
    assert.equal(
      errorOf(await h.call('POST', '/v1/models/recommender:predict', '')),
      'JSON Parse error: The document is empty',
    );
  });

  it("turns the model's own input complaints and the limits into 400s", async () => {
    const h = harness();
    const bad = await h.call(
      'POST',
      '/v1/models/recommender:predict',
      '{"instances":[{"customer_id":"bad","revenue":1}]}',
    );
    assert.equal(bad.status, 400);
    assert.equal(errorOf(bad), 'value bad is not in the vocabulary of "customer_id"');
    const many = JSON.stringify({
      instances: Array.from({ length: 5 }, () => ({ customer_id: 'a', revenue: 1 })),
    });
    const tooMany = await h.call('POST', '/v1/models/recommender:predict', many);
    assert.equal(tooMany.status, 400);
    assert.equal(errorOf(tooMany), 'Request has 5 instances; at most 4 are accepted per request');
    const bigK = await h.call(
      'POST',
      '/v1/models/recommender:predict',
      '{"instances":[{"customer_id":"a","revenue":1}],"k":6}',
    );
    assert.equal(bigK.status, 400);
    assert.equal(errorOf(bigK), "JSON Value: 6 'k' must be an integer between 1 and 5");
    const costly = await h.call(
      'POST',
      '/v1/models/recommender:predict',
      JSON.stringify({
        instances: Array.from({ length: 3 }, () => ({ customer_id: 'a', revenue: 1 })),
        k: 4,
      }),
    );
    assert.equal(costly.status, 400);
    assert.equal(
      errorOf(costly),
      'Request cost 12 (3 instances × k 4) exceeds the limit of 10 (MAX_REQUEST_COST); send fewer instances or a smaller k',
    );
    assert.equal(h.model.calls.length, 0, 'refused requests never reach the model');
  });

  it('answers 503 with Retry-After while loading and when the queue is full', async () => {
    const loading = harness({ loaded: false });
    const early = await loading.call('POST', '/v1/models/recommender:predict', ROW);
    assert.equal(early.status, 503);
    assert.equal(early.headers['Retry-After'], '1');
    assert.equal(
      errorOf(early),
      'Servable Latest(recommender) is not available: it is still loading',
    );

    const h = harness({ maxEnqueuedBatches: 1 });
    // The first four fill a batch, which starts at once; four more fill the queue (4 × 1); the ninth is shed.
    const responses = await Promise.all(
      Array.from({ length: 9 }, () => h.call('POST', '/v1/models/recommender:predict', ROW)),
    );
    const statuses = responses.map((r) => r.status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 503]);
    assert.deepEqual(h.model.calls, [4, 4]);
    const shed = responses.find((r) => r.status === 503)!;
    assert.equal(shed.headers['Retry-After'], '1');
    assert.equal(
      errorOf(shed),
      'The batch scheduling queue to which this task was submitted is full',
    );
    assert.match(
      (await h.metrics.render()).body,
      /ann_serving_load_shed_total\{reason="queue_full"\} 1/,
    );
  });

  it('keeps server faults at 500 with a generic message, and logs them', async () => {
    const h = harness();
    h.model.failWith = new Error('TF.js exploded: /secret/path');
    const response = await h.call('POST', '/v1/models/recommender:predict', ROW);
    assert.equal(response.status, 500);
    assert.equal(errorOf(response), 'Internal error');
    assert.equal(h.logger.lines.filter((line) => line.level === 'error').length, 1);
  });

  it("serves /health (readiness) and /metrics; other paths get TF Serving's HTML 404", async () => {
    const h = harness({ loaded: false });
    const loading = await h.call('GET', '/health');
    assert.equal(loading.status, 503);
    assert.equal((JSON.parse(loading.body) as { state: string }).state, 'LOADING');
    h.slot.ready(h.model);
    assert.equal((await h.call('GET', '/health')).status, 200);
    h.shuttingDown = true;
    const stopping = await h.call('GET', '/health');
    assert.equal(stopping.status, 503);
    assert.equal((JSON.parse(stopping.body) as { state: string }).state, 'SHUTTING_DOWN');

    const metrics = await h.call('GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers['Content-Type']!, /^text\/plain/);
    assert.match(metrics.body, /ann_serving_batch_size_bucket/);

    for (const [method, url] of [
      ['GET', '/'],
      ['GET', '/v1'],
      ['POST', '/health'],
      ['GET', '/models/x:predict'],
    ] as const) {
      const response = await h.call(method, url);
      assert.equal(response.status, 404, url);
      assert.equal(response.headers['Content-Type'], 'text/html');
      assert.match(response.body, /<TITLE>404 Not Found<\/TITLE>/);
    }
  });

  it('answers malformed /v1 URLs with 400 and CORS preflights as TF Serving does', async () => {
    const h = harness();
    const malformed = await h.call('GET', '/v1/models/recommender:predict');
    assert.equal(malformed.status, 400);
    assert.equal(errorOf(malformed), 'Malformed request: GET /v1/models/recommender:predict');
    assert.equal(malformed.route, 'malformed');
    const preflight = await h.call('OPTIONS', '/v1/models/recommender:predict', '', {
      origin: 'https://app.example',
    });
    assert.deepEqual([preflight.status, preflight.body, preflight.headers], [200, '', {}]);
    assert.equal((await h.call('OPTIONS', '/v1/models/recommender')).status, 400);
  });
});
