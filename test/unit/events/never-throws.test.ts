import assert from 'node:assert/strict';
import {
  decodeHttpDelivery,
  decodePubSubCloudEvent,
  excerptOf,
  invalid,
  MESSAGE_PUBLISHED_TYPE,
  parseDeploymentFinished,
  parseDeploymentFinishedV1,
  parseModelDeployed,
  parseModelDeployedV1,
  parseModelRegistered,
  parseModelRegisteredV1,
  parseTrainingCompleted,
  parseTrainingCompletedPayload,
  parseTrainingCompletedV1,
  REJECTION_CODES,
  withContext,
  type ParseResult,
} from '@recdeploy/events';
import { messagePublished } from '../../fixtures/events/deliveries.js';

const boom = () => {
  throw new Error('boom');
};
const cyclic: Record<string, unknown> = { id: '1', type: MESSAGE_PUBLISHED_TYPE };
cyclic.data = cyclic;
const hostileProxy = new Proxy(
  {},
  { get: boom, ownKeys: boom, has: boom, getPrototypeOf: boom, getOwnPropertyDescriptor: boom },
);

const weirdInputs: ReadonlyArray<[string, () => unknown]> = [
  ['undefined', () => undefined],
  ['null', () => null],
  ['NaN', () => NaN],
  ['an empty string', () => ''],
  ['an empty array', () => []],
  ['an empty object', () => ({})],
  ['a symbol', () => Symbol('s')],
  ['a function', () => () => 1],
  ['a bigint', () => 10n],
  ['an object without prototype', () => Object.create(null) as unknown],
  ['a throwing id getter', () => Object.defineProperty({}, 'id', { get: boom, enumerable: true })],
  [
    'a throwing data getter',
    () =>
      Object.defineProperty({ id: '1', type: MESSAGE_PUBLISHED_TYPE }, 'data', {
        get: boom,
        enumerable: true,
      }),
  ],
  ['a proxy that throws on every trap', () => hostileProxy],
  ['a cyclic object', () => cyclic],
  [
    'a toJSON that throws a hostile proxy',
    () => ({
      toJSON: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point of the test
        throw hostileProxy;
      },
    }),
  ],
  [
    'a payload with a throwing toJSON',
    () => messagePublished({ a: 1 }, { message: { data: { toJSON: boom } } }),
  ],
];

const parsers: ReadonlyArray<[string, (input: unknown) => ParseResult<unknown>]> = [
  ['decodePubSubCloudEvent', decodePubSubCloudEvent],
  ['parseTrainingCompleted', parseTrainingCompleted],
  ['parseTrainingCompletedPayload', parseTrainingCompletedPayload],
  ['parseTrainingCompletedV1', parseTrainingCompletedV1],
  ['parseModelRegistered', parseModelRegistered],
  ['parseModelRegisteredV1', parseModelRegisteredV1],
  ['parseModelDeployed', parseModelDeployed],
  ['parseModelDeployedV1', parseModelDeployedV1],
  ['parseDeploymentFinished', parseDeploymentFinished],
  ['parseDeploymentFinishedV1', parseDeploymentFinishedV1],
  ['decodeHttpDelivery (as headers)', (input) => decodeHttpDelivery(input as never, '{}')],
  ['decodeHttpDelivery (as body)', (input) => decodeHttpDelivery({}, input as never)],
  [
    'decodeHttpDelivery (as a ce-id header)',
    (input) => decodeHttpDelivery({ 'ce-id': input } as never, '{}'),
  ],
];

describe('parsers never throw', () => {
  for (const [parserName, parse] of parsers) {
    it(`${parserName} rejects every hostile input with a known code and a bounded reason`, () => {
      for (const [inputName, make] of weirdInputs) {
        let result: ParseResult<unknown> | undefined;
        assert.doesNotThrow(() => (result = parse(make())), `${parserName}(${inputName}) threw`);
        assert.ok(result && !result.ok, `${parserName}(${inputName}) was accepted`);
        const { code, reason } = result.rejection;
        assert.ok(REJECTION_CODES.includes(code), `${parserName}(${inputName}): code ${code}`);
        assert.ok(
          reason.length > 0 && reason.length <= 1024,
          `${parserName}(${inputName}): reason ${reason}`,
        );
      }
    });
  }

  it('names the failure when a getter throws', () => {
    const result = decodePubSubCloudEvent(
      Object.defineProperty({}, 'id', { get: boom, enumerable: true }),
    );
    assert.deepEqual(result, {
      ok: false,
      rejection: { code: 'EVENT.INVALID', reason: 'CloudEvent could not be read: boom' },
    });
  });

  it('says a non-JSON payload is not JSON data', () => {
    const results = [
      parseTrainingCompletedV1(10n),
      parseTrainingCompletedV1(cyclic),
      parseTrainingCompletedV1(() => 1),
    ];
    for (const result of results) {
      assert.ok(!result.ok);
      assert.match(result.rejection.reason, /^payload is not JSON data: /);
    }
  });

  it('reads a changing getter once: the value checked is the value returned', () => {
    let reads = 0;
    const payload = {
      schema_version: '1',
      get run_id() {
        reads += 1;
        return reads === 1 ? 'ep-1-run-42' : 'a/b';
      },
      registry: { model: 'm', version: '1' },
    };
    const result = parseModelRegisteredV1(payload);
    assert.ok(result.ok);
    assert.equal(result.value.run_id, 'ep-1-run-42');
    assert.equal(reads, 1);
  });
});

describe('rejection helpers', () => {
  it('bound excerpts to 512 characters without splitting a surrogate pair', () => {
    assert.equal(excerptOf('x'.repeat(600))?.length, 512);
    const cut = excerptOf(`${'x'.repeat(511)}😀tail`);
    assert.equal(cut, 'x'.repeat(511));
    assert.equal(excerptOf({ a: 1 }), '{"a":1}');
    assert.equal(excerptOf(cyclic), undefined);
  });

  it('add outer context without overwriting what the inner layer knew', () => {
    const inner = invalid('bad', { idempotencyKey: 'run-1', excerpt: 'x' });
    const outer = withContext(inner, { eventId: 'e1', idempotencyKey: 'other' });
    assert.deepEqual(outer.rejection, {
      code: 'EVENT.INVALID',
      reason: 'bad',
      eventId: 'e1',
      idempotencyKey: 'run-1',
      excerpt: 'x',
    });
  });
});
