import assert from 'node:assert/strict';
import {
  parseTrainingCompleted,
  parseTrainingCompletedPayload,
  parseTrainingCompletedV1,
} from '@recdeploy/events';
import { trainingCompletedExample } from '../../fixtures/events/examples.js';
import { messagePublished } from '../../fixtures/events/deliveries.js';
import { rejectionOf, valueOf } from '../../fixtures/events/results.js';

describe('parseTrainingCompleted: the own JSON message', () => {
  it('accepts the example, keyed by {model_endpoint_id}-{training_run_id}, with its delivery', () => {
    const value = valueOf(parseTrainingCompleted(messagePublished(trainingCompletedExample())));
    assert.equal(value.kind, 'training_completed');
    assert.equal(value.idempotencyKey, 'ep-1-run-42');
    assert.equal(value.delivery.eventId, '9812345678901234');
    assert.equal(value.delivery.messageId, '9812345678901234');
    if (value.kind !== 'training_completed') return;
    assert.equal(value.message.run_number, 42);
    assert.deepEqual(value.message.metrics, {
      recall_at_100: 0.97,
      recall_at_10: 0.61,
      loss: 1.84,
    });
  });

  it('keeps unknown extra fields, top level and nested, in the parsed value', () => {
    const payload = trainingCompletedExample();
    payload.owner = { team: 'recs', tags: ['a', 'b'] };
    payload.deployment_config = { memory: '1Gi', gpu: 'none' };
    const value = valueOf(parseTrainingCompletedPayload(payload));
    assert.equal(value.kind, 'training_completed');
    const message = (value as { message: Record<string, unknown> }).message;
    assert.deepEqual(message.owner, { team: 'recs', tags: ['a', 'b'] });
    assert.deepEqual(message.deployment_config, { memory: '1Gi', gpu: 'none' });
    assert.equal(message.pipeline_job_id, 'recs-two-tower-20260119120000');
  });

  it('returns a detached copy, so later changes to the input do not reach the parsed value', () => {
    const payload = trainingCompletedExample();
    const value = valueOf(parseTrainingCompletedV1(payload));
    (payload.metrics as Record<string, number>).recall_at_100 = 0;
    assert.equal(value.metrics.recall_at_100, 0.97);
  });

  it('uses the business key, not the message id: two publications of one run share a key', () => {
    const first = valueOf(
      parseTrainingCompleted(messagePublished(trainingCompletedExample(), { id: '1' })),
    );
    const again = valueOf(
      parseTrainingCompleted(messagePublished(trainingCompletedExample(), { id: '2' })),
    );
    assert.notEqual(first.delivery.eventId, again.delivery.eventId);
    assert.equal(first.idempotencyKey, again.idempotencyKey);
  });

  const rejections: ReadonlyArray<[string, (p: Record<string, unknown>) => void, RegExp]> = [
    [
      'run_number as a string',
      (p) => (p.run_number = '3'),
      /^\/run_number: Expected integer, got "3"$/,
    ],
    [
      'negative run_number',
      (p) => (p.run_number = -1),
      /^\/run_number: Expected integer to be greater or equal to 0$/,
    ],
    [
      'fractional run_number',
      (p) => (p.run_number = 1.5),
      /^\/run_number: Expected integer, got 1.5$/,
    ],
    ['missing model_slug', (p) => delete p.model_slug, /^\/model_slug: is required$/],
    [
      'unknown model_type',
      (p) => (p.model_type = 'sequence'),
      /^\/model_type: Expected one of 'retrieval', 'ranking', 'multitask', got "sequence"$/,
    ],
    [
      'unknown algorithm',
      (p) => (p.retrieval_algorithm = 'faiss'),
      /^\/retrieval_algorithm: Expected one of 'brute_force', 'scann', 'hnsw'/,
    ],
    [
      'http artifact_uri',
      (p) => (p.artifact_uri = 'https://evil.example/model'),
      /^\/artifact_uri: does not have the expected form \(.*a gs:\/\/bucket\/path or file:\/\/\/path URI with no empty, "\." or "\.\." path segment \(nor an encoded one\)\), got "https:\/\/evil.example\/model"$/,
    ],
    [
      'climbing artifact_uri',
      (p) => (p.artifact_uri = 'gs://b/a/../x'),
      /^\/artifact_uri: does not have the expected form \(.*with no empty, "\." or "\.\." path segment.*\), got "gs:\/\/b\/a\/\.\.\/x"$/,
    ],
    [
      'oversized artifact_uri',
      (p) => (p.artifact_uri = `gs://b/${'x'.repeat(1100)}`),
      /^\/artifact_uri: Expected string length less or equal to 1024, got 1107 chars/,
    ],
    [
      'oversized training_run_id',
      (p) => (p.training_run_id = 'r'.repeat(129)),
      /^\/training_run_id: Expected string length less or equal to 128, got 129 chars/,
    ],
    [
      'a slash in an id',
      (p) => (p.model_endpoint_id = 'ep/1'),
      /^\/model_endpoint_id: does not have the expected form \(.*letters, digits.*\), got "ep\/1"$/,
    ],
    [
      'is_blessed as a string',
      (p) => (p.is_blessed = 'true'),
      /^\/is_blessed: Expected boolean, got "true"$/,
    ],
    [
      'a non-numeric metric',
      (p) => (p.metrics = { recall: 'high' }),
      /^\/metrics\/recall: Expected number, got "high"$/,
    ],
    [
      'a bad completed_at',
      (p) => (p.completed_at = 'yesterday'),
      /^\/completed_at: does not have the expected form \(.*RFC 3339.*\), got "yesterday"$/,
    ],
    [
      'a bad memory setting',
      (p) => (p.deployment_config = { memory: '2GB' }),
      /^\/deployment_config\/memory: does not have the expected form/,
    ],
    [
      'too much concurrency',
      (p) => (p.deployment_config = { concurrency: 5000 }),
      /^\/deployment_config\/concurrency: Expected integer to be less or equal to 1000$/,
    ],
    [
      'schema_version 2',
      (p) => (p.schema_version = '2'),
      /^\/schema_version: Expected '1', got "2"$/,
    ],
    [
      'schema_version as a number',
      (p) => (p.schema_version = 1),
      /^\/schema_version: Expected '1', got 1$/,
    ],
  ];
  for (const [name, mutate, reason] of rejections) {
    it(`rejects ${name} with a precise reason and the readable run key`, () => {
      const payload = trainingCompletedExample();
      mutate(payload);
      const rejection = rejectionOf(parseTrainingCompleted(messagePublished(payload)));
      assert.equal(rejection.code, 'EVENT.INVALID');
      assert.equal(rejection.kind, 'training-completed message');
      const prefix = 'invalid training-completed message: ';
      assert.ok(rejection.reason.startsWith(prefix), rejection.reason);
      assert.match(rejection.reason.slice(prefix.length), reason);
      assert.equal(rejection.eventId, '9812345678901234');
      const idsIntact =
        typeof payload.training_run_id === 'string' && payload.training_run_id.length <= 128;
      const endpointIntact = payload.model_endpoint_id === 'ep-1';
      assert.equal(
        rejection.idempotencyKey,
        idsIntact && endpointIntact ? 'ep-1-run-42' : undefined,
      );
      assert.ok(rejection.excerpt && rejection.excerpt.length <= 512);
    });
  }

  it('lists up to three failing paths and counts the rest', () => {
    const payload = trainingCompletedExample();
    Object.assign(payload, {
      run_number: 'x',
      model_type: 1,
      is_blessed: null,
      metrics: [],
      model_slug: 'UP',
    });
    const { reason } = rejectionOf(parseTrainingCompletedPayload(payload));
    assert.equal(reason.split('; ').length, 3);
    assert.match(reason, /\(and 2 more\)$/);
  });

  const nonObjects: ReadonlyArray<[string, string, RegExp]> = [
    [
      'null',
      'null',
      /^a JSON null is not a training-completed message: payload: Expected object, got null$/,
    ],
    [
      'an array',
      '[1,2]',
      /^a JSON array is not a training-completed message: payload: Expected object, got array$/,
    ],
    [
      'a number',
      '42',
      /^a JSON number is not a training-completed message: payload: Expected object, got 42$/,
    ],
    [
      'a string',
      '"done"',
      /^a JSON string is not a training-completed message: payload: Expected object, got "done"$/,
    ],
  ];
  for (const [name, json, reason] of nonObjects) {
    it(`rejects ${name} as payload`, () => {
      const rejection = rejectionOf(parseTrainingCompleted(messagePublished(json)));
      assert.equal(rejection.code, 'EVENT.INVALID');
      assert.match(rejection.reason, reason);
      assert.equal(rejection.kind, 'unrecognised JSON');
      assert.equal(rejection.excerpt, json);
    });
  }
});
