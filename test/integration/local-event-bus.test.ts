import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, PermanentError } from '@recdeploy/shared';
import {
  LocalEventBus,
  retryDelayMs,
  type LocalEventBusOptions,
  type PushSubscriptionOptions,
} from '@recdeploy/shared/local';
import { PushReceiver, decodeData, type ReceivedPush } from '../support/push-receiver.js';

const PROJECT = 'test-project';
const TOPIC = 'training-completed';

describe('LocalEventBus (push over real HTTP)', () => {
  let dir: string;
  let receiver: PushReceiver;
  const buses: LocalEventBus[] = [];

  function openBus(options: Partial<LocalEventBusOptions> = {}): LocalEventBus {
    const bus = new LocalEventBus({
      file: path.join(dir, 'bus.db'),
      projectId: PROJECT,
      ...options,
    });
    buses.push(bus);
    return bus;
  }

  /** A bus with TOPIC and one subscription pushing to `/{name}` with millisecond backoffs. */
  function busWithSubscription(sub: Partial<PushSubscriptionOptions> = {}): LocalEventBus {
    const bus = openBus();
    bus.createTopic(TOPIC);
    bus.createSubscription({
      name: 'register-sub',
      topic: TOPIC,
      pushEndpoint: receiver.url('/register'),
      minBackoffMs: 20,
      maxBackoffMs: 80,
      ackDeadlineMs: 2_000,
      ...sub,
    });
    return bus;
  }

  const attemptsOf = (pushes: ReceivedPush[]) => pushes.map((p) => p.body.deliveryAttempt);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-bus-'));
    receiver = new PushReceiver();
    await receiver.start();
  });

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await receiver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pushes a binary-mode CloudEvent exactly as Eventarc does for Pub/Sub; 204 acks it', async () => {
    const bus = busWithSubscription();
    bus.start();
    const payload = { training_run_id: 'run-7', metrics: { recall_at_100: 0.41 }, city: 'Łódź' };
    const before = Date.now();
    const id = await bus.publish(TOPIC, { data: payload, attributes: { schema_version: '1' } });
    const after = Date.now();
    await receiver.waitFor(() => bus.stats().acked === 1, 'the ack');

    assert.match(id, /^[1-9]\d{15}$/);
    assert.equal(receiver.received.length, 1);
    const [push] = receiver.received;
    assert.ok(push);
    assert.equal(push.method, 'POST');
    assert.equal(push.path, '/register');
    const publishTime = push.body.message.publishTime;
    assert.ok(Date.parse(publishTime) >= before && Date.parse(publishTime) <= after);
    assert.equal(push.headers['content-type'], 'application/json');
    assert.equal(push.headers['ce-id'], id);
    assert.equal(
      push.headers['ce-source'],
      `//pubsub.googleapis.com/projects/${PROJECT}/topics/${TOPIC}`,
    );
    assert.equal(push.headers['ce-specversion'], '1.0');
    assert.equal(push.headers['ce-type'], 'google.cloud.pubsub.topic.v1.messagePublished');
    assert.equal(push.headers['ce-time'], publishTime);
    assert.deepEqual(push.body, {
      subscription: `projects/${PROJECT}/subscriptions/register-sub`,
      message: {
        data: Buffer.from(JSON.stringify(payload)).toString('base64'),
        attributes: { schema_version: '1' },
        messageId: id,
        message_id: id,
        publishTime,
        publish_time: publishTime,
      },
      deliveryAttempt: 1,
    });
    assert.deepEqual(decodeData(push), payload);

    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(receiver.received.length, 1, 'an acked message is not pushed again');
    assert.deepEqual(bus.stats().subscriptions, [
      { name: 'register-sub', topic: TOPIC, pending: 0, deadLettered: 0, acked: 1 },
    ]);
  });

  it('retries 500 and 503 with backoff, counting deliveryAttempt up, until a 2xx', async () => {
    const bus = busWithSubscription({ minBackoffMs: 40, maxBackoffMs: 160 });
    receiver.responder = (_push, i) => ({ status: [500, 503][i] ?? 200 });
    bus.start();
    const id = await bus.publish(TOPIC, { data: { n: 1 } });
    await receiver.waitFor(() => bus.stats().acked === 1, 'the ack');

    const pushes = receiver.received;
    assert.deepEqual(attemptsOf(pushes), [1, 2, 3]);
    assert.deepEqual(
      pushes.map((p) => p.headers['ce-id']),
      [id, id, id],
    );
    const gaps = pushes.slice(1).map((p, i) => p.receivedAt - (pushes[i]?.receivedAt ?? 0));
    // The floor doubles per failure: 40 ms after the first, 80 ms after the second.
    assert.ok(
      gaps.length === 2 && gaps[0]! >= 40 && gaps[1]! >= 80,
      `every retry waits at least its backoff floor: ${gaps.join(', ')}`,
    );
  });

  it('counts a receiver that does not answer within the ack deadline as a failed attempt', async () => {
    const bus = busWithSubscription({ ackDeadlineMs: 150 });
    receiver.responder = (_push, i) => (i === 0 ? 'hang' : { status: 204 });
    bus.start();
    await bus.publish(TOPIC, { data: { n: 1 } });
    await receiver.waitFor(() => bus.stats().acked === 1, 'the ack');

    const [first, second] = receiver.received;
    assert.deepEqual(attemptsOf(receiver.received), [1, 2]);
    // The deadline runs from the moment the bus starts the POST, before the
    // first push reaches the receiver, so the gap seen here is the deadline
    // plus the 20 ms backoff minus the first push's own transit time (tens of
    // ms on a loaded CI machine): the 20 ms backoff is the margin for it.
    const gap = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    assert.ok(gap >= 150, `the retry waited out the 150 ms ack deadline: gap ${gap} ms`);
  });

  it('dead-letters after maxDeliveryAttempts with the last error and forwards to the DLQ topic', async () => {
    const bus = busWithSubscription({ maxDeliveryAttempts: 3 });
    bus.createTopic('register-dlq');
    bus.createSubscription({
      name: 'dlq-sub',
      topic: 'register-dlq',
      pushEndpoint: receiver.url('/dlq'),
    });
    // Re-declaring a subscription updates it (the local stack declares them on every start).
    bus.createSubscription({
      name: 'register-sub',
      topic: TOPIC,
      pushEndpoint: receiver.url('/register'),
      minBackoffMs: 20,
      maxBackoffMs: 80,
      maxDeliveryAttempts: 3,
      deadLetterTopic: 'register-dlq',
    });
    const longBody = `overloaded ${'x'.repeat(5_000)}`;
    receiver.responder = (push) =>
      push.path === '/register' ? { status: 503, body: longBody } : { status: 204 };
    bus.start();
    const payload = { training_run_id: 'run-9' };
    const id = await bus.publish(TOPIC, { data: payload, attributes: { origin: 'test' } });
    await receiver.waitFor(() => bus.stats().acked === 1, 'the DLQ delivery');

    const original = receiver.on('/register');
    assert.deepEqual(attemptsOf(original), [1, 2, 3]);
    const [dead, ...more] = bus.listDeadLetters('register-sub');
    assert.equal(more.length, 0);
    assert.ok(dead);
    assert.equal(dead.messageId, id);
    assert.deepEqual(dead.data, payload);
    assert.equal(dead.attempts, 3);
    assert.equal(dead.lastStatus, 503);
    assert.ok(dead.lastError.startsWith('HTTP 503: overloaded xxx'), dead.lastError);
    assert.ok(dead.lastError.length <= 520, 'the body is truncated');

    const [forwarded] = receiver.on('/dlq');
    assert.ok(forwarded);
    assert.equal(forwarded.headers['ce-id'], dead.forwardedMessageId);
    assert.equal(
      forwarded.headers['ce-source'],
      `//pubsub.googleapis.com/projects/${PROJECT}/topics/register-dlq`,
    );
    assert.deepEqual(decodeData(forwarded), payload);
    assert.deepEqual(forwarded.body.message.attributes, {
      origin: 'test',
      CloudPubSubDeadLetterSourceDeliveryCount: '3',
      CloudPubSubDeadLetterSourceSubscription: 'register-sub',
      CloudPubSubDeadLetterSourceSubscriptionProject: PROJECT,
      CloudPubSubDeadLetterSourceTopicPublishTime: original[0]?.body.message.publishTime,
    });
    const stats = bus.stats().subscriptions.find((s) => s.name === 'register-sub');
    assert.deepEqual(stats, {
      name: 'register-sub',
      topic: TOPIC,
      pending: 0,
      deadLettered: 1,
      acked: 0,
    });
  });

  it('counts a refused connection as a failed attempt', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const bus = busWithSubscription({
      pushEndpoint: `http://127.0.0.1:${port}/`,
      maxDeliveryAttempts: 2,
    });
    bus.start();
    await bus.publish(TOPIC, { data: { n: 1 } });
    await receiver.waitFor(() => bus.stats().deadLettered === 1, 'the dead letter');

    const [dead] = bus.listDeadLetters();
    assert.equal(dead?.attempts, 2);
    assert.equal(dead?.lastStatus, null);
    assert.match(dead?.lastError ?? '', /ECONNREFUSED/);
  });

  it('fans a message out to every subscription of its topic', async () => {
    const bus = busWithSubscription();
    bus.createSubscription({
      name: 'audit-sub',
      topic: TOPIC,
      pushEndpoint: receiver.url('/audit'),
    });
    bus.start();
    const id = await bus.publish(TOPIC, { data: { n: 1 } });
    await receiver.waitFor(() => bus.stats().acked === 2, 'both acks');

    const bySubscription = Object.fromEntries(
      receiver.received.map((p) => [p.body.subscription, [p.path, p.headers['ce-id']]]),
    );
    assert.deepEqual(bySubscription, {
      [`projects/${PROJECT}/subscriptions/register-sub`]: ['/register', id],
      [`projects/${PROJECT}/subscriptions/audit-sub`]: ['/audit', id],
    });
  });

  it('rejects a publish to an unknown topic with PermanentError BUS.UNKNOWN_TOPIC', async () => {
    const bus = busWithSubscription();
    const error = await bus.publish('no-such-topic', { data: {} }).catch((e: unknown) => e);

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'BUS.UNKNOWN_TOPIC');
    assert.equal(error.retryable, false);
    assert.equal(bus.stats().pending, 0);
  });

  it('carries the ordering key and, with ordering on, holds same-key messages behind a retry', async () => {
    const bus = busWithSubscription({ enableMessageOrdering: true, minBackoffMs: 60 });
    const dataOf = (p: ReceivedPush) => (decodeData(p) as { m: string }).m;
    receiver.responder = (push) =>
      dataOf(push) === 'a' && push.body.deliveryAttempt === 1 ? { status: 500 } : { status: 204 };
    await bus.publish(TOPIC, { data: { m: 'a' }, orderingKey: 'svc-1' });
    await bus.publish(TOPIC, { data: { m: 'b' }, orderingKey: 'svc-1' });
    await bus.publish(TOPIC, { data: { m: 'c' }, orderingKey: 'svc-2' });
    await bus.publish(TOPIC, { data: { m: 'd' } });
    bus.start();
    await receiver.waitFor(() => bus.stats().acked === 4, 'four acks');

    const seen = receiver.received.map((p) => [dataOf(p), p.body.message.orderingKey]);
    // c and d are not held by a's retry; b waits for a's ack.
    assert.deepEqual(seen.slice(-2), [
      ['a', 'svc-1'],
      ['b', 'svc-1'],
    ]);
    assert.deepEqual(seen.slice(0, 3).sort(), [
      ['a', 'svc-1'],
      ['c', 'svc-2'],
      ['d', undefined],
    ]);
  });

  it('keeps what was published before start, across a clean restart on the same file', async () => {
    const first = busWithSubscription();
    const id = await first.publish(TOPIC, { data: { n: 1 } });
    await first.close();
    assert.equal(receiver.received.length, 0);

    const second = openBus();
    second.start();
    await receiver.waitFor(() => second.stats().acked === 1, 'the ack after restart');
    assert.equal(receiver.received[0]?.headers['ce-id'], id);
  });

  it('pushes at most maxInFlight deliveries at once', async () => {
    const bus = openBus({ maxInFlight: 2 });
    bus.createTopic(TOPIC);
    bus.createSubscription({
      name: 'register-sub',
      topic: TOPIC,
      pushEndpoint: receiver.url('/r'),
    });
    let maxOpen = 0;
    receiver.responder = () => {
      const open = receiver.received.filter((p) => p.answeredAt === undefined).length;
      maxOpen = Math.max(maxOpen, open);
      return { status: 204, delayMs: 40 };
    };
    for (let n = 0; n < 6; n++) await bus.publish(TOPIC, { data: { n } });
    bus.start();
    await receiver.waitFor(() => bus.stats().acked === 6, 'six acks');

    assert.equal(maxOpen, 2);
  });

  it('on stop() puts an interrupted attempt back as due, without counting it', async () => {
    const bus = busWithSubscription({ ackDeadlineMs: 5_000 });
    receiver.responder = (_push, i) => (i === 0 ? 'hang' : { status: 204 });
    bus.start();
    await bus.publish(TOPIC, { data: { n: 1 } });
    await receiver.waitFor(() => receiver.received.length === 1, 'the first push');
    await bus.stop();
    assert.equal(bus.stats().pending, 1);

    const restartedAt = Date.now();
    bus.start();
    await receiver.waitFor(() => bus.stats().acked === 1, 'the ack');
    assert.deepEqual(attemptsOf(receiver.received), [1, 1]);
    assert.ok((receiver.received[1]?.receivedAt ?? Infinity) - restartedAt < 1_000, 'not leased');
  });

  it('rejects invalid subscriptions with every problem, and unknown topics', () => {
    const bus = openBus();
    bus.createTopic(TOPIC);
    assert.throws(
      () =>
        bus.createSubscription({
          name: 'x',
          topic: TOPIC,
          pushEndpoint: 'ftp://nowhere',
          maxDeliveryAttempts: 0,
          minBackoffMs: 100,
          maxBackoffMs: 10,
        }),
      (e: unknown) => e instanceof ConfigError && e.problems.length === 4,
    );
    assert.throws(
      () =>
        bus.createSubscription({
          name: 'register-sub',
          topic: TOPIC,
          pushEndpoint: receiver.url(),
          deadLetterTopic: 'missing-dlq',
        }),
      (e: unknown) => e instanceof PermanentError && e.code === 'BUS.UNKNOWN_TOPIC',
    );
  });
});

describe('retryDelayMs', () => {
  const policy = { minBackoffMs: 100, maxBackoffMs: 1_000 };

  it('stays between min·2^(n−1) and min·2^n after n failures (jitter only adds)', () => {
    assert.equal(
      retryDelayMs(policy, 1, () => 0),
      100,
    );
    assert.equal(
      retryDelayMs(policy, 1, () => 1),
      200,
    );
    assert.equal(
      retryDelayMs(policy, 2, () => 0),
      200,
    );
    assert.equal(
      retryDelayMs(policy, 2, () => 1),
      400,
    );
    assert.equal(
      retryDelayMs(policy, 3, () => 0.5),
      400 + 0.5 * 400,
    );
  });

  it('never exceeds the maximum, however many attempts failed', () => {
    assert.equal(
      retryDelayMs(policy, 4, () => 1),
      1_000,
    );
    assert.equal(
      retryDelayMs(policy, 10_000, () => 1),
      1_000,
    );
    // At the cap the floor is the cap: no jitter below it.
    assert.equal(
      retryDelayMs(policy, 5, () => 0),
      1_000,
    );
  });
});
