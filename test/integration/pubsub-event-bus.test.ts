import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { PubSub } from '@google-cloud/pubsub';
import { PermanentError, TransientError } from '@recdeploy/shared';
import { PubSubEventBus, toPublishError } from '@recdeploy/shared/gcp';
import { PubSubPublisherFake } from '../support/fakes/pubsub-publisher-fake.js';

const TOPIC = 'projects/test-project/topics/training-completed';

describe('PubSubEventBus over real gRPC to a fake Publisher', () => {
  let fake: PubSubPublisherFake;
  let client: PubSub;
  let bus: PubSubEventBus;

  beforeEach(async () => {
    fake = new PubSubPublisherFake([TOPIC]);
    const port = await fake.start();
    // PubSub parses the port out of apiEndpoint (a separate `port` option is
    // overwritten), so it goes in the endpoint, emulator style.
    client = new PubSub({
      projectId: 'test-project',
      apiEndpoint: `127.0.0.1:${port}`,
      sslCreds: grpc.credentials.createInsecure(),
    });
    // gax counts maxRetries as attempts: two RPCs at most, so a persistent
    // UNAVAILABLE surfaces quickly instead of after the client's 600 s default.
    bus = new PubSubEventBus({
      projectId: 'test-project',
      pubsub: client,
      publishOptions: { gaxOpts: { maxRetries: 2 } },
    });
  });

  afterEach(async () => {
    await bus.close();
    await client.close();
    await fake.stop();
  });

  it('sends the JSON bytes and attributes to the full topic name and returns the message id', async () => {
    const payload = { training_run_id: 'run-7', metrics: { recall_at_100: 0.41 }, note: 'zażółć' };
    const id = await bus.publish('training-completed', {
      data: payload,
      attributes: { schema_version: '1', origin: 'test' },
    });

    assert.equal(fake.publishes.length, 1);
    const [request] = fake.publishes;
    assert.equal(request?.topic, TOPIC);
    assert.equal(request?.messages.length, 1);
    const wire = request?.messages[0];
    assert.deepEqual(wire?.data, Buffer.from(JSON.stringify(payload), 'utf8'));
    assert.deepEqual(wire?.attributes, { schema_version: '1', origin: 'test' });
    assert.equal(wire?.orderingKey, '');
    assert.equal(id, request?.messageIds[0]);
  });

  it('carries the ordering key and keeps same-key messages in order', async () => {
    const ids = await Promise.all(
      [1, 2, 3].map((n) =>
        bus.publish('training-completed', { data: { n }, orderingKey: 'svc-a' }),
      ),
    );

    const wire = fake.publishes.flatMap((p) => p.messages);
    assert.deepEqual(
      wire.map((m) => [m.orderingKey, JSON.parse(m.data.toString('utf8')) as unknown]),
      [
        ['svc-a', { n: 1 }],
        ['svc-a', { n: 2 }],
        ['svc-a', { n: 3 }],
      ],
    );
    assert.deepEqual(
      ids,
      fake.publishes.flatMap((p) => p.messageIds),
    );
  });

  it('lets the client retry a passing UNAVAILABLE by itself', async () => {
    fake.failNext(1, grpc.status.UNAVAILABLE);
    const id = await bus.publish('training-completed', { data: { ok: true } });

    assert.equal(fake.calls.Publish, 2);
    assert.equal(id, fake.publishes[1]?.messageIds[0]);
  });

  it('maps a persistent UNAVAILABLE to a retryable TransientError with the cause', async () => {
    fake.failNext(5, grpc.status.UNAVAILABLE, 'backend down');
    const error = await bus.publish('training-completed', { data: { ok: true } }).then(
      () => assert.fail('publish should fail'),
      (e: unknown) => e,
    );

    assert.ok(error instanceof TransientError);
    assert.equal(error.code, 'BUS.PUBLISH_FAILED');
    assert.equal(error.retryable, true);
    assert.equal(fake.calls.Publish, 2);
    // gax reports exhausted retries as DEADLINE_EXCEEDED naming the last error.
    assert.equal((error.cause as { code?: number }).code, grpc.status.DEADLINE_EXCEEDED);
    assert.match(error.message, /14 UNAVAILABLE: backend down/);
  });

  it('maps NOT_FOUND (unknown topic) to PermanentError BUS.UNKNOWN_TOPIC without retrying', async () => {
    const error = await bus.publish('no-such-topic', { data: {} }).then(
      () => assert.fail('publish should fail'),
      (e: unknown) => e,
    );

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'BUS.UNKNOWN_TOPIC');
    assert.equal(error.retryable, false);
    assert.equal(fake.calls.Publish, 1);
    assert.equal(fake.publishes[0]?.topic, 'projects/test-project/topics/no-such-topic');
  });

  it('maps PERMISSION_DENIED to PermanentError BUS.PUBLISH_FAILED', async () => {
    fake.failNext(1, grpc.status.PERMISSION_DENIED);
    const error = await bus.publish('training-completed', { data: {} }).catch((e: unknown) => e);

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'BUS.PUBLISH_FAILED');
  });

  it('publishes on an ordering key again after a failed publish on it', async () => {
    fake.failNext(1, grpc.status.INVALID_ARGUMENT);
    await assert.rejects(bus.publish('training-completed', { data: { n: 1 }, orderingKey: 'k' }));
    const id = await bus.publish('training-completed', { data: { n: 1 }, orderingKey: 'k' });

    assert.equal(fake.publishes.length, 2);
    assert.equal(id, fake.publishes[1]?.messageIds[0]);
  });

  it('rejects data that is not JSON as permanent, before any RPC', async () => {
    const error = await bus
      .publish('training-completed', { data: undefined })
      .catch((e: unknown) => e);

    assert.ok(error instanceof PermanentError);
    assert.equal(fake.calls.Publish, undefined);
  });

  it('flushes batched messages on close', async () => {
    const batching = new PubSubEventBus({
      projectId: 'test-project',
      pubsub: client,
      publishOptions: { batching: { maxMessages: 100, maxMilliseconds: 60_000 } },
    });
    const pending = batching.publish('training-completed', { data: { batched: true } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(fake.publishes.length, 0, 'still batched before close');

    await batching.close();
    assert.equal(await pending, fake.publishes[0]?.messageIds[0]);
    await assert.rejects(batching.publish('training-completed', { data: {} }), TransientError);
  });

  it('creates its own client lazily from clientOptions and closes it', async () => {
    const own = new PubSubEventBus({
      projectId: 'test-project',
      clientOptions: {
        apiEndpoint: `127.0.0.1:${fake.port}`,
        sslCreds: grpc.credentials.createInsecure(),
      },
    });
    assert.deepEqual(fake.calls, {}, 'no RPC before the first publish');

    const id = await own.publish('training-completed', { data: { lazy: true } });
    await own.close();
    assert.equal(fake.publishes[0]?.topic, TOPIC);
    assert.equal(id, fake.publishes[0]?.messageIds[0]);
  });
});

describe('toPublishError', () => {
  const grpcError = (code: grpc.status) => Object.assign(new Error(grpc.status[code]), { code });
  const cases: ReadonlyArray<[string, unknown, boolean, string]> = [
    ['UNAVAILABLE', grpcError(grpc.status.UNAVAILABLE), true, 'BUS.PUBLISH_FAILED'],
    ['DEADLINE_EXCEEDED', grpcError(grpc.status.DEADLINE_EXCEEDED), true, 'BUS.PUBLISH_FAILED'],
    ['RESOURCE_EXHAUSTED', grpcError(grpc.status.RESOURCE_EXHAUSTED), true, 'BUS.PUBLISH_FAILED'],
    ['an error without a code', new Error('socket hang up'), true, 'BUS.PUBLISH_FAILED'],
    ['NOT_FOUND', grpcError(grpc.status.NOT_FOUND), false, 'BUS.UNKNOWN_TOPIC'],
    ['INVALID_ARGUMENT', grpcError(grpc.status.INVALID_ARGUMENT), false, 'BUS.PUBLISH_FAILED'],
    ['PERMISSION_DENIED', grpcError(grpc.status.PERMISSION_DENIED), false, 'BUS.PUBLISH_FAILED'],
  ];
  for (const [name, cause, retryable, code] of cases) {
    it(`maps ${name} to ${retryable ? 'transient' : 'permanent'} ${code}`, () => {
      const error = toPublishError(cause, 't');
      assert.equal(error.retryable, retryable);
      assert.equal(error.code, code);
      assert.equal(error.cause, cause);
    });
  }
});
