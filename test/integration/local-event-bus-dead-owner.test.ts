/**
 * A delivery in flight when its bus's process dies is pushed again as soon as
 * a new bus starts on the file, not when its lease (the ack deadline, here
 * 5 minutes) runs out; a delivery whose holder is alive is left alone.
 * The holder is a real child process, SIGKILLed while its push hangs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { LocalEventBus } from '@recdeploy/shared/local';
import { PushReceiver } from '../support/push-receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOPIC = 'work';
const SUBSCRIPTION = 'work-sub';
/** Long enough that only the owner check can explain a redelivery within the test. */
const ACK_DEADLINE_MS = 300_000;

/**
 * A bus in a child process: declares the subscription, publishes one message,
 * prints its id and starts delivering (the receiver never answers, so the
 * delivery stays claimed until the child dies).
 */
const CHILD = `
import { LocalEventBus } from '@recdeploy/shared/local';
const bus = new LocalEventBus({ file: process.env.BUS_FILE, projectId: 'owner-test' });
bus.createTopic('${TOPIC}');
bus.createSubscription({
  name: '${SUBSCRIPTION}', topic: '${TOPIC}', pushEndpoint: process.env.PUSH_ENDPOINT,
  ackDeadlineMs: ${ACK_DEADLINE_MS}, minBackoffMs: 100, maxBackoffMs: 1000, maxDeliveryAttempts: 5,
});
const id = await bus.publish('${TOPIC}', { data: { n: 1 } });
bus.start();
process.stdout.write(JSON.stringify({ published: id, pid: process.pid }) + '\\n');
`;

interface Holder {
  readonly child: ChildProcess;
  readonly published: Promise<string>;
  readonly exited: Promise<unknown>;
}

function startHolder(file: string, endpoint: string): Holder {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', CHILD],
    {
      cwd: ROOT,
      env: { ...process.env, BUS_FILE: file, PUSH_ENDPOINT: endpoint },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const published = new Promise<string>((resolve, reject) => {
    readline
      .createInterface({ input: child.stdout })
      .once('line', (line) => resolve((JSON.parse(line) as { published: string }).published));
    child.once('exit', (code) => reject(new Error(`holder exited ${code} before publishing`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, published, exited };
}

describe('LocalEventBus: deliveries of a dead owner (child process, SIGKILL)', function () {
  this.timeout(30_000);
  let dir: string;
  let file: string;
  let receiver: PushReceiver;
  const children: ChildProcess[] = [];
  const buses: LocalEventBus[] = [];

  function openBus(): LocalEventBus {
    const bus = new LocalEventBus({ file, projectId: 'owner-test', pollIntervalMs: 100 });
    buses.push(bus);
    return bus;
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-bus-owner-'));
    file = path.join(dir, 'bus.db');
    receiver = new PushReceiver();
    receiver.responder = () => 'hang';
    await receiver.start();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await receiver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('redelivers at once what a SIGKILLed process had in flight, and never what a live one has', async function () {
    const holder = startHolder(file, receiver.url('/work'));
    children.push(holder.child);
    const id = await holder.published;
    await receiver.waitFor(() => receiver.received.length === 1, 'the first push', 10_000);

    // The holder is alive: a second bus on the file leaves its delivery alone.
    const bystander = openBus();
    bystander.start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(receiver.received.length, 1, 'no duplicate while the holder lives');
    await bystander.close();

    holder.child.kill('SIGKILL');
    await holder.exited;
    receiver.responder = () => ({ status: 204 });
    const restartedAt = Date.now();
    const bus = openBus();
    bus.start();
    await receiver.waitFor(() => bus.stats().acked === 1, 'the redelivery', 10_000);
    const redeliveredMs = (receiver.received[1]?.receivedAt ?? Infinity) - restartedAt;

    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[1]?.headers['ce-id'], id, 'the same message');
    assert.equal(receiver.received[1]?.body.deliveryAttempt, 2, 'the killed attempt counted');
    assert.ok(redeliveredMs < 2_000, `redelivered after ${redeliveredMs} ms, not the ack deadline`);
    this.test!.title += ` (redelivered ${redeliveredMs} ms after the new bus started)`;
  });

  it('in one process: releases a lease of its own pid held by no open bus, keeps an open bus’s', async () => {
    // An open bus of this process holds a delivery (its push hangs).
    const first = openBus();
    first.createTopic(TOPIC);
    first.createSubscription({
      name: SUBSCRIPTION,
      topic: TOPIC,
      pushEndpoint: receiver.url('/work'),
      ackDeadlineMs: ACK_DEADLINE_MS,
    });
    await first.publish(TOPIC, { data: { n: 1 } });
    first.start();
    await receiver.waitFor(() => receiver.received.length === 1, 'the first push');
    const second = openBus();
    second.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(receiver.received.length, 1, 'an open bus of this process is alive');
    await second.close();

    // A previous process with this pid (a restarted container's pid 1) left a lease behind.
    const db = new Database(file);
    try {
      db.prepare("UPDATE bus_deliveries SET lease_owner = 'earlier-process', lease_pid = ?").run(
        process.pid,
      );
    } finally {
      db.close();
    }
    receiver.responder = () => ({ status: 204 });
    const third = openBus();
    third.start();
    await receiver.waitFor(() => third.stats().acked === 1, 'the redelivery', 5_000);
    assert.equal(receiver.received.length, 2);
  });
});
