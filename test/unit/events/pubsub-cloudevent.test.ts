import assert from 'node:assert/strict';
import {
  decodePubSubCloudEvent,
  MAX_EVENT_DATA_BYTES,
  MESSAGE_PUBLISHED_TYPE,
} from '@recdeploy/events';
import { base64Json, messagePublished } from '../../fixtures/events/deliveries.js';
import { rejectionOf } from '../../fixtures/events/results.js';

describe('decodePubSubCloudEvent', () => {
  it('decodes metadata and the JSON payload of a real-shaped delivery', () => {
    const result = decodePubSubCloudEvent(
      messagePublished(
        { hello: 'wörld' },
        { message: { orderingKey: 'ep-1' }, data: { deliveryAttempt: 3 } },
      ),
    );
    assert.deepEqual(result, {
      ok: true,
      value: {
        eventId: '9812345678901234',
        messageId: '9812345678901234',
        publishTime: '2026-01-19T16:49:47.012Z',
        attributes: { origin: 'test' },
        orderingKey: 'ep-1',
        deliveryAttempt: 3,
        subscription: 'projects/recs-prod/subscriptions/eventarc-europe-west1-register-sub-1',
        payload: { hello: 'wörld' },
      },
    });
  });

  const spellings: ReadonlyArray<[string, Record<string, unknown>]> = [
    ['camelCase only', { message_id: undefined, publish_time: undefined }],
    ['snake_case only', { messageId: undefined, publishTime: undefined }],
    ['both, agreeing', {}],
  ];
  for (const [name, message] of spellings) {
    it(`accepts message id and publish time spelled ${name}`, () => {
      const result = decodePubSubCloudEvent(messagePublished({}, { message }));
      assert.ok(result.ok, result.ok ? '' : result.rejection.reason);
      assert.equal(result.value.messageId, '9812345678901234');
      assert.equal(result.value.publishTime, '2026-01-19T16:49:47.012Z');
    });
  }

  it('keeps a "__proto__" attribute as a plain key', () => {
    const ce = messagePublished({});
    (ce.data.message as Record<string, unknown>).attributes = JSON.parse(
      '{"__proto__":"x","a":"b"}',
    ) as unknown;
    const result = decodePubSubCloudEvent(ce);
    assert.ok(result.ok);
    assert.deepEqual(Object.keys(result.value.attributes), ['__proto__', 'a']);
    assert.equal(Object.getPrototypeOf(result.value.attributes), Object.prototype);
  });

  const big = 'A'.repeat(Math.ceil((MAX_EVENT_DATA_BYTES + 3) / 3) * 4);
  const withMessage = (message: Record<string, unknown>) =>
    messagePublished({ ok: true }, { message });
  const withData = (data: Record<string, unknown>) => messagePublished({ ok: true }, { data });
  const rejections: ReadonlyArray<[string, unknown, RegExp]> = [
    [
      'a wrong type',
      messagePublished({}, { type: 'google.cloud.storage.object.v1.finalized' }),
      /^CloudEvent type "google.cloud.storage.object.v1.finalized" is not accepted \(expected google.cloud.pubsub.topic.v1.messagePublished\)$/,
    ],
    [
      'data that is a string',
      { ...messagePublished({}), data: 'eyJ9' },
      /^CloudEvent data must be a MessagePublishedData object, got "eyJ9"$/,
    ],
    [
      'no message',
      { ...messagePublished({}), data: { subscription: 's' } },
      /^message must be an object, got nothing$/,
    ],
    ['missing message.data', withMessage({ data: undefined }), /^message.data is missing/],
    [
      'message.data as an object',
      withMessage({ data: { a: 1 } }),
      /^message.data must be a base64 string, got object$/,
    ],
    ['empty message.data', withMessage({ data: '' }), /^message.data is empty$/],
    [
      'a character outside base64',
      withMessage({ data: 'eyJ9%A==' }),
      /^message.data is not valid base64: unexpected character "%" at offset 4$/,
    ],
    [
      'URL-safe base64',
      withMessage({ data: 'eyJ-_Q==' }),
      /^message.data is not valid base64: unexpected character "-" at offset 3$/,
    ],
    [
      'a newline in base64',
      withMessage({ data: 'eyJ9\nAA==' }),
      /^message.data is not valid base64: unexpected character "\\n" at offset 4$/,
    ],
    [
      'missing padding',
      withMessage({ data: 'eyJ9e' }),
      /^message.data is not valid base64: length 5 is not a multiple of 4$/,
    ],
    [
      'padding in the middle',
      withMessage({ data: 'eQ==eyJ9' }),
      /^message.data is not valid base64: padding "=" at offset 2 before the end$/,
    ],
    [
      'unused bits set',
      withMessage({ data: 'QR==' }),
      /^message.data is not valid base64: non-canonical encoding \(unused bits set\)$/,
    ],
    [
      'invalid UTF-8',
      withMessage({ data: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64') }),
      /^message.data is not valid UTF-8$/,
    ],
    [
      'invalid JSON',
      withMessage({ data: base64Json('{"a":') }),
      /^message.data is not valid JSON: /,
    ],
    [
      'data over the size limit',
      withMessage({ data: big }),
      new RegExp(
        `^message.data decodes to \\d+ bytes, more than the ${MAX_EVENT_DATA_BYTES}-byte limit$`,
      ),
    ],
    [
      'no message id at all',
      withMessage({ messageId: undefined, message_id: undefined }),
      /^message.messageId is missing \(neither messageId nor message_id is present\)$/,
    ],
    [
      'disagreeing ids',
      withMessage({ message_id: '1' }),
      /^message.messageId and message.message_id disagree \("9812345678901234" vs "1"\)$/,
    ],
    [
      'a numeric message id',
      withMessage({ messageId: 5, message_id: undefined }),
      /^message.messageId must be a string, got 5$/,
    ],
    [
      'no publish time',
      withMessage({ publishTime: undefined, publish_time: undefined }),
      /^message.publishTime is missing/,
    ],
    [
      'a bad publish time',
      withMessage({ publishTime: 'soon', publish_time: undefined }),
      /^message.publishTime "soon" is not a timestamp$/,
    ],
    [
      'a numeric attribute',
      withMessage({ attributes: { retries: 3 } }),
      /^message.attributes\["retries"\] must be a string, got 3$/,
    ],
    [
      'attributes as an array',
      withMessage({ attributes: ['a'] }),
      /^message.attributes must be an object, got array$/,
    ],
    [
      'a numeric ordering key',
      withMessage({ orderingKey: 1 }),
      /^message.orderingKey must be a string, got 1$/,
    ],
    [
      'a negative delivery attempt',
      withData({ deliveryAttempt: -1 }),
      /^deliveryAttempt must be a non-negative integer, got -1$/,
    ],
    [
      'a numeric subscription',
      withData({ subscription: 7 }),
      /^subscription must be a string, got 7$/,
    ],
  ];
  for (const [name, ce, reason] of rejections) {
    it(`rejects ${name}, naming the field, with the event id`, () => {
      const rejection = rejectionOf(decodePubSubCloudEvent(ce));
      assert.equal(rejection.code, 'EVENT.INVALID');
      assert.match(rejection.reason, reason);
      assert.equal(rejection.eventId, '9812345678901234');
      if (rejection.excerpt !== undefined) assert.ok(rejection.excerpt.length <= 512);
    });
  }

  const notEvents: ReadonlyArray<[string, unknown, RegExp]> = [
    ['null', null, /^CloudEvent must be an object, got null$/],
    ['an array', [messagePublished({})], /^CloudEvent must be an object, got array$/],
    ['a string', 'event', /^CloudEvent must be an object, got "event"$/],
    [
      'an event without id',
      { type: MESSAGE_PUBLISHED_TYPE, data: {} },
      /^CloudEvent id is missing$/,
    ],
    [
      'an event with a huge id',
      { id: '1'.repeat(300) },
      /^CloudEvent id is 300 characters, more than the 256 allowed$/,
    ],
  ];
  for (const [name, value, reason] of notEvents) {
    it(`rejects ${name} without an event id`, () => {
      const rejection = rejectionOf(decodePubSubCloudEvent(value));
      assert.match(rejection.reason, reason);
      assert.equal(rejection.eventId, undefined);
    });
  }

  it('keeps the excerpt of undecodable JSON to 512 characters', () => {
    const text = `{"a":"${'x'.repeat(2000)}`;
    const rejection = rejectionOf(decodePubSubCloudEvent(messagePublished(text)));
    assert.equal(rejection.excerpt, text.slice(0, 512));
  });
});
