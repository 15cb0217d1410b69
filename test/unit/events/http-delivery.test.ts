import assert from 'node:assert/strict';
import { decodeHttpDelivery, MAX_DELIVERY_BYTES, parseTrainingCompleted } from '@recdeploy/events';
import {
  binaryDelivery,
  messagePublished,
  structuredDelivery,
} from '../../fixtures/events/deliveries.js';
import { example, trainingCompletedExample } from '../../fixtures/events/examples.js';
import { rejectionOf } from '../../fixtures/events/results.js';

describe('decodeHttpDelivery', () => {
  const ce = messagePublished(trainingCompletedExample());

  const modes: ReadonlyArray<[string, ReturnType<typeof structuredDelivery>]> = [
    ['structured mode', structuredDelivery(ce)],
    ['binary mode', binaryDelivery(ce)],
    ['binary mode with upper-case headers', binaryDelivery(ce, true)],
    [
      'binary mode with headers as one-element arrays',
      {
        headers: Object.fromEntries(
          Object.entries(binaryDelivery(ce).headers).map(([k, v]) => [k, [v as string]]),
        ),
        body: binaryDelivery(ce).body,
      },
    ],
    ['binary mode with a string body', { ...binaryDelivery(ce), body: JSON.stringify(ce.data) }],
  ];
  for (const [name, delivery] of modes) {
    it(`decodes ${name} to the same CloudEvent`, () => {
      const result = decodeHttpDelivery(delivery.headers, delivery.body);
      assert.deepEqual(result, {
        ok: true,
        value: {
          id: '9812345678901234',
          type: 'google.cloud.pubsub.topic.v1.messagePublished',
          source: '//pubsub.googleapis.com/projects/recs-prod/topics/training-completed',
          specversion: '1.0',
          time: '2026-01-19T16:49:47.012Z',
          datacontenttype: 'application/json',
          extensions: {},
          data: ce.data,
        },
      });
    });
  }

  it('feeds parseTrainingCompleted the same way in both modes', () => {
    const viaStructured = decodeHttpDelivery(
      structuredDelivery(ce).headers,
      structuredDelivery(ce).body,
    );
    const viaBinary = decodeHttpDelivery(binaryDelivery(ce).headers, binaryDelivery(ce).body);
    assert.ok(viaStructured.ok && viaBinary.ok);
    const a = parseTrainingCompleted(viaStructured.value);
    const b = parseTrainingCompleted(viaBinary.value);
    assert.ok(a.ok);
    assert.deepEqual(a, b);
    assert.equal(a.value.idempotencyKey, 'ep-1-run-42');
  });

  it('decodes the published Eventarc example end to end', () => {
    const envelope = example('eventarc-cloudevent.training-completed');
    const delivery = structuredDelivery(envelope);
    const decoded = decodeHttpDelivery(delivery.headers, delivery.body);
    assert.ok(decoded.ok);
    const parsed = parseTrainingCompleted(decoded.value);
    assert.ok(parsed.ok && parsed.value.kind === 'training_completed');
    assert.deepEqual(parsed.value.message, trainingCompletedExample());
    assert.equal(parsed.value.delivery.deliveryAttempt, 1);
  });

  it('passes traceparent and ce-* extensions through', () => {
    const delivery = binaryDelivery(ce);
    delivery.headers.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    delivery.headers['ce-topic'] = 'training-completed';
    const result = decodeHttpDelivery(delivery.headers, delivery.body);
    assert.ok(result.ok);
    assert.deepEqual(result.value.extensions, {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      topic: 'training-completed',
    });
  });

  const missingHeaders = ['ce-id', 'ce-type', 'ce-source', 'ce-specversion'];
  for (const header of missingHeaders) {
    it(`falls back to structured mode without ${header} and says which header is missing`, () => {
      const delivery = binaryDelivery(ce);
      delete delivery.headers[header];
      const rejection = rejectionOf(decodeHttpDelivery(delivery.headers, delivery.body));
      assert.equal(rejection.code, 'EVENT.INVALID');
      assert.match(
        rejection.reason,
        /^CloudEvent id is missing \(structured mode: binary mode needs all of/,
      );
      assert.ok(rejection.reason.endsWith(`missing ${header})`), rejection.reason);
    });
  }

  const bad: ReadonlyArray<
    [string, () => { headers: Record<string, unknown>; body: unknown }, RegExp]
  > = [
    [
      'an empty body',
      () => ({ headers: {}, body: '' }),
      /^body is empty \(structured mode: no ce-\* headers were sent\)$/,
    ],
    [
      'a body that is not JSON',
      () => ({ headers: {}, body: 'hello' }),
      /^body is not valid JSON: .* \(structured mode: no ce-\* headers were sent\)$/,
    ],
    [
      'a JSON array body',
      () => ({ headers: {}, body: '[1]' }),
      /^body must be a CloudEvent JSON object, got array/,
    ],
    [
      'a JSON number body',
      () => ({ headers: {}, body: '3' }),
      /^body must be a CloudEvent JSON object, got 3/,
    ],
    [
      'invalid UTF-8 in a Buffer body',
      () => ({ headers: {}, body: Buffer.from([0xc3, 0x28]) }),
      /^body is not valid UTF-8$/,
    ],
    [
      'a body over the limit',
      () => ({ headers: {}, body: Buffer.alloc(MAX_DELIVERY_BYTES + 1, 0x20) }),
      new RegExp(
        `^body is ${MAX_DELIVERY_BYTES + 1} bytes, more than the ${MAX_DELIVERY_BYTES}-byte limit$`,
      ),
    ],
    [
      'a numeric body',
      () => ({ headers: {}, body: 42 }),
      /^body must be a string or Buffer, got 42$/,
    ],
    [
      'null headers',
      () => ({ headers: null, body: '{}' }) as never,
      /^headers must be an object, got null$/,
    ],
    [
      'a repeated ce-id header',
      () => ({ headers: { ...binaryDelivery(ce).headers, 'ce-id': ['1', '2'] }, body: '{}' }),
      /^header ce-id appears more than once$/,
    ],
    [
      'ce-id in two letter cases',
      () => ({ headers: { ...binaryDelivery(ce).headers, 'CE-ID': '2' }, body: '{}' }),
      /^header ce-id appears more than once$/,
    ],
    [
      'a numeric header',
      () => ({ headers: { ...binaryDelivery(ce).headers, 'ce-time': 5 }, body: '{}' }),
      /^header ce-time must be a string, got 5$/,
    ],
    [
      'specversion 0.3 in binary mode',
      () => ({ headers: { ...binaryDelivery(ce).headers, 'ce-specversion': '0.3' }, body: '{}' }),
      /^header ce-specversion "0.3" is not supported \(expected "1.0"\)$/,
    ],
    [
      'a bad ce-time',
      () => ({ headers: { ...binaryDelivery(ce).headers, 'ce-time': 'noon' }, body: '{}' }),
      /^header ce-time "noon" is not a timestamp$/,
    ],
    [
      'binary mode with a non-JSON body',
      () => ({ headers: binaryDelivery(ce).headers, body: '{"message":' }),
      /^body is not valid JSON/,
    ],
    [
      'structured mode without data',
      () => ({ headers: {}, body: JSON.stringify({ ...ce, data: undefined }) }),
      /^CloudEvent data is missing/,
    ],
    [
      'structured mode with data_base64',
      () => ({
        headers: {},
        body: JSON.stringify({ ...ce, data: undefined, data_base64: 'e30=' }),
      }),
      /^CloudEvent data_base64 is not supported/,
    ],
    [
      'structured mode with a numeric type',
      () => ({ headers: {}, body: JSON.stringify({ ...ce, type: 1 }) }),
      /^CloudEvent type must be a string, got 1/,
    ],
    [
      'structured mode with an oversized source',
      () => ({ headers: {}, body: JSON.stringify({ ...ce, source: 's'.repeat(2000) }) }),
      /^CloudEvent source is 2000 characters, more than the 1024 allowed/,
    ],
  ];
  for (const [name, build, reason] of bad) {
    it(`rejects ${name} with a precise reason`, () => {
      const { headers, body } = build();
      const rejection = rejectionOf(decodeHttpDelivery(headers as never, body as never));
      assert.equal(rejection.code, 'EVENT.INVALID');
      assert.match(rejection.reason, reason);
    });
  }

  it('carries the event id on rejections once the id is known', () => {
    const delivery = binaryDelivery(ce);
    const rejection = rejectionOf(decodeHttpDelivery(delivery.headers, 'not json'));
    assert.equal(rejection.eventId, '9812345678901234');
    assert.equal(rejection.excerpt, 'not json');
  });
});
