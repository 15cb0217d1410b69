/**
 * `recdeploy publish` onto a real LocalEventBus file (delivered by the
 * "stack's" bus to a real push endpoint) and onto Pub/Sub through the real
 * client against the fake Publisher; and what it refuses.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseTrainingCompletedV1 } from '@recdeploy/events';
import { LocalEventBus, SqliteRunStore } from '@recdeploy/shared/local';
import type { PublishReport } from '../../../cli/src/commands/publish.js';
import { sampleIdentity } from '../../fixtures/runs.js';
import { PubSubPublisherFake } from '../../support/fakes/pubsub-publisher-fake.js';
import { PushReceiver, decodeData } from '../../support/push-receiver.js';
import { pretendStackRuns, recdeploy, recdeployProcess } from './cli-harness.js';
import { FirestoreLookupFake } from './firestore-lookup-fake.js';

const EXAMPLE = fileURLToPath(
  new URL('../../../events/examples/training-completed.v1.json', import.meta.url),
);
const EXAMPLE_JSON = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as unknown;

describe('recdeploy publish', function () {
  this.timeout(30_000);
  let dataDir: string;
  let receiver: PushReceiver;
  let bus: LocalEventBus | undefined;
  let stopPretending: (() => void) | undefined;

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-publish-'));
    receiver = new PushReceiver();
    await receiver.start();
  });
  afterEach(async () => {
    stopPretending?.();
    stopPretending = undefined;
    await bus?.close();
    bus = undefined;
    await receiver.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The stack's bus: the topic pushed to the receiver, as the stack pushes it to register. */
  function stackBus(topic = 'training-completed'): LocalEventBus {
    bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db'), pollIntervalMs: 20 });
    bus.createTopic(topic);
    bus.createSubscription({
      name: `${topic}-push`,
      topic,
      pushEndpoint: receiver.url('/register'),
    });
    return bus;
  }

  it('with no stack running: exit 1, says the message would sit undelivered, touches nothing', async () => {
    const { code, stdout, stderr } = await recdeploy('publish', EXAMPLE, '--data-dir', dataDir);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      `recdeploy: no local stack is running on ${dataDir}: the message would sit undelivered in its bus until one starts. Start it with \`npm start\` (or \`recdeploy start --data-dir ${dataDir}\`) first, or pass --queue to publish it anyway`,
    );
    assert.deepEqual(fs.readdirSync(dataDir), []);
  });

  it('to a running stack: the payload as written reaches the subscriber; prints message and run ids', async () => {
    stackBus().start();
    stopPretending = pretendStackRuns(dataDir);
    const { code, stdout, stderr } = await recdeploy('publish', EXAMPLE, '--data-dir', dataDir);
    assert.equal(code, 0, stderr);
    const [first, second] = stdout.split('\n');
    const messageId =
      /^published message (\d{16}) to topic training-completed \(the local bus (.+)\)$/.exec(
        first ?? '',
      );
    assert.ok(messageId, stdout);
    assert.equal(messageId[2], path.join(dataDir, 'bus.db'));
    assert.equal(second, 'run ep-1-run-42');
    assert.equal(stderr, 'follow it with: recdeploy status ep-1-run-42 --watch');

    await receiver.waitFor(() => receiver.on('/register').length === 1, 'the push');
    const [push] = receiver.on('/register');
    assert.ok(push);
    assert.deepEqual(decodeData(push), EXAMPLE_JSON);
    assert.equal(push.body.message.messageId, messageId[1]);
    assert.deepEqual(push.body.message.attributes, {
      origin: 'recdeploy-cli',
      run_id: 'ep-1-run-42',
    });
  });

  it('--queue publishes while no stack runs (delivered once one starts); --json reports it', async () => {
    stackBus();
    const { code, stdout, stderr } = await recdeploy(
      'publish',
      EXAMPLE,
      '--queue',
      '--json',
      '--data-dir',
      dataDir,
    );
    assert.equal(code, 0, stderr);
    assert.equal(
      stderr,
      'follow it with: recdeploy status ep-1-run-42 --watch\nno local stack is running: the message is delivered when one starts',
    );
    const report = JSON.parse(stdout) as PublishReport;
    assert.deepEqual(report, {
      messageId: report.messageId,
      topic: 'training-completed',
      bus: 'local',
      location: path.join(dataDir, 'bus.db'),
      runId: 'ep-1-run-42',
      queued: true,
    });
    assert.equal(receiver.received.length, 0, 'nothing delivers yet');
    bus?.start();
    await receiver.waitFor(() => receiver.received.length === 1, 'the queued push');
    assert.equal(receiver.received[0]?.body.message.messageId, report.messageId);
  });

  it('refuses a topic without subscriptions: the message would be dropped', async () => {
    stackBus('other-topic');
    stopPretending = pretendStackRuns(dataDir);
    const { code, stderr } = await recdeploy('publish', EXAMPLE, '--data-dir', dataDir);
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `recdeploy: topic training-completed has no subscription in ${path.join(dataDir, 'bus.db')}, so the message would be dropped (a topic keeps messages only for its subscriptions, as in Pub/Sub); the local stack creates them on its first start`,
    );
    const other = await recdeploy(
      'publish',
      EXAMPLE,
      '--topic',
      'other-topic',
      '--data-dir',
      dataDir,
    );
    assert.equal(other.code, 0, other.stderr);
  });

  it('--sample without the sample bundle: exit 1 saying how to create it', async () => {
    stopPretending = pretendStackRuns(dataDir);
    const { code, stderr } = await recdeploy('publish', '--sample', '--data-dir', dataDir);
    const dir = path.join(dataDir, 'models', 'sample');
    assert.equal(code, 1);
    assert.equal(
      stderr,
      `recdeploy: no sample model at ${dir}: \`recdeploy start\` (npm start) creates it on its first start, or create it with \`recdeploy sample-model --out ${dir}\``,
    );
  });

  it('--sample numbers the run one above the endpoint’s highest; two in a row are two runs', async () => {
    const bundle = path.join(dataDir, 'models', 'sample');
    fs.mkdirSync(path.join(bundle, 'ann'), { recursive: true });
    fs.writeFileSync(
      path.join(bundle, 'ann', 'manifest.json'),
      '{"metrics":{"recall_at_100":0.5}}',
    );
    // The stack's own first run, and a hand-written run 5, in a real SQLite store.
    const store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    for (const [trainingRunId, runNumber] of [
      ['sample-run-1', 1],
      ['by-hand', 5],
    ] as const) {
      await store.createRun(
        sampleIdentity({ modelEndpointId: 'local-sample', trainingRunId, runNumber }),
      );
    }
    await store.close();
    stackBus().start();
    stopPretending = pretendStackRuns(dataDir);
    // Back to back: the receiver registers nothing, so the second cannot learn of the first from the store.
    const reports: PublishReport[] = [];
    for (let i = 0; i < 2; i++) {
      const { code, stdout, stderr } = await recdeploy(
        'publish',
        '--sample',
        '--json',
        '--data-dir',
        dataDir,
      );
      assert.equal(code, 0, stderr);
      reports.push(JSON.parse(stdout) as PublishReport);
    }
    assert.deepEqual(
      reports.map((report) => report.runId),
      ['local-sample-sample-run-6', 'local-sample-sample-run-7'],
    );
    await receiver.waitFor(() => receiver.received.length === 2, 'the pushes');
    const messages = receiver.received.map((push) => {
      const message = parseTrainingCompletedV1(decodeData(push));
      assert.ok(message.ok);
      return message.value;
    });
    assert.deepEqual(messages.map((m) => [m.training_run_id, m.run_number]).sort(), [
      ['sample-run-6', 6],
      ['sample-run-7', 7],
    ]);
    for (const message of messages) {
      assert.equal(message.artifact_uri, pathToFileURL(bundle).href);
      assert.deepEqual(message.metrics, { recall_at_100: 0.5 });
    }
  });

  it('--sample on a data directory without runs yet is run 1', async () => {
    const bundle = path.join(dataDir, 'models', 'sample');
    fs.mkdirSync(path.join(bundle, 'ann'), { recursive: true });
    fs.writeFileSync(path.join(bundle, 'ann', 'manifest.json'), '{}');
    stackBus();
    const { code, stdout, stderr } = await recdeploy(
      'publish',
      '--sample',
      '--queue',
      '--data-dir',
      dataDir,
    );
    assert.equal(code, 0, stderr);
    assert.equal(stdout.split('\n')[1], 'run local-sample-sample-run-1');
    assert.equal(fs.existsSync(path.join(dataDir, 'runs.db')), false, 'no store created');
  });

  it('--project/--topic: checks Firestore for the run, then publishes to the Pub/Sub topic through the real clients', async () => {
    const fake = new PubSubPublisherFake(['projects/test-project/topics/trained']);
    const port = await fake.start();
    const firestore = new FirestoreLookupFake();
    await firestore.start();
    const before = process.env.PUBSUB_EMULATOR_HOST;
    const beforeFirestore = process.env.FIRESTORE_EMULATOR_HOST;
    process.env.PUBSUB_EMULATOR_HOST = `127.0.0.1:${port}`;
    process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
    try {
      const { code, stdout, stderr } = await recdeploy(
        'publish',
        EXAMPLE,
        '--project',
        'test-project',
        '--topic',
        'trained',
      );
      assert.equal(code, 0, stderr);
      assert.equal(stderr.split('\n')[0], 'publishing to projects/test-project/topics/trained');
      assert.equal(fake.publishes.length, 1);
      const [request] = fake.publishes;
      assert.equal(request?.topic, 'projects/test-project/topics/trained');
      const wire = request?.messages[0];
      assert.deepEqual(JSON.parse(wire?.data.toString('utf8') ?? ''), EXAMPLE_JSON);
      assert.deepEqual(wire?.attributes, { origin: 'recdeploy-cli', run_id: 'ep-1-run-42' });
      assert.equal(
        stdout.split('\n')[0],
        `published message ${request?.messageIds[0]} to topic trained (projects/test-project/topics/trained)`,
      );

      // Before publishing, the run's document was looked up (and found missing).
      assert.deepEqual(firestore.lookups, [
        {
          database: 'projects/test-project/databases/(default)',
          documents: [
            'projects/test-project/databases/(default)/documents/deployments/ep-1-run-42',
          ],
        },
      ]);

      const unknown = await recdeploy('publish', EXAMPLE, '--project', 'test-project');
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /\nrecdeploy: .*training-completed/);
    } finally {
      if (before === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
      else process.env.PUBSUB_EMULATOR_HOST = before;
      if (beforeFirestore === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
      else process.env.FIRESTORE_EMULATOR_HOST = beforeFirestore;
      await fake.stop();
      await firestore.stop();
    }
  });

  it('as a child process: a bad file exits 2 with one line naming the field, no stack trace', async () => {
    const bad = path.join(dataDir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...(EXAMPLE_JSON as object), is_blessed: 'yes' }));
    const { code, stdout, stderr } = await recdeployProcess([
      'publish',
      bad,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      `recdeploy: ${bad} is not a valid training-completed message: /is_blessed: Expected boolean, got "yes"\n`,
    );
  });
});
