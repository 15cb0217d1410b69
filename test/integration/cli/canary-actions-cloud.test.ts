/**
 * `recdeploy abort --project` as a real child process on the cloud backend:
 * the request recorded in Firestore (the real FirestoreRunStore through the
 * emulator), then one message on the reconcile-tick topic (the real Pub/Sub
 * client against the loopback Publisher fake), so the reconcile function
 * carries it out now instead of at its next minute. Runs only where
 * FIRESTORE_EMULATOR_HOST is set (e.g. `gcloud emulators firestore start
 * --host-port=127.0.0.1:8686`); otherwise the suite reports itself skipped.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FirestoreRunStore } from '@recdeploy/shared/gcp';
import { PubSubPublisherFake } from '../../support/fakes/pubsub-publisher-fake.js';
import { recdeployProcess } from './cli-harness.js';
import { seedCanary } from './canary-seed.js';

const EMULATOR = process.env.FIRESTORE_EMULATOR_HOST;

describe('recdeploy abort --project (needs FIRESTORE_EMULATOR_HOST; skipped without it)', function () {
  this.timeout(60_000);

  before(function () {
    if (EMULATOR === undefined) this.skip();
  });

  it('records the request in Firestore, then publishes one reconcile-tick message', async () => {
    // Serving records live in a fixed collection: a project of its own keeps tests apart.
    const project = `demo-canary-${randomUUID().slice(0, 8)}`;
    const topic = `projects/${project}/topics/reconcile-tick`;
    const pubsub = new PubSubPublisherFake([topic]);
    const port = await pubsub.start();
    const store = new FirestoreRunStore({ projectId: project });
    try {
      const { canary } = await seedCanary(store);
      const { code, stdout, stderr } = await recdeployProcess(
        ['abort', canary.runId, '--no-wait', '--project', project],
        { FIRESTORE_EMULATOR_HOST: EMULATOR ?? '', PUBSUB_EMULATOR_HOST: `127.0.0.1:${port}` },
      );
      assert.equal(code, 0, stderr);
      const request = (await store.getRun(canary.runId))?.canary?.request;
      assert.equal(request?.action, 'abort');

      assert.equal(pubsub.publishes.length, 1);
      const [published] = pubsub.publishes;
      assert.equal(published?.topic, topic);
      const wire = published?.messages[0];
      assert.deepEqual(JSON.parse(wire?.data.toString('utf8') ?? ''), {
        tick: 'canary-request',
        run_id: canary.runId,
        action: 'abort',
      });
      assert.deepEqual(wire?.attributes, { run_id: canary.runId });
      assert.deepEqual(stdout.trimEnd().split('\n').slice(2), [
        `  published reconcile-tick message ${published?.messageIds[0]} to Pub/Sub project ${project}`,
        '  the reconcile function carries it out (at once for the reconcile-tick message sent here, else at its next scheduled tick, within a minute)',
      ]);
    } finally {
      await store.close();
      await pubsub.stop();
    }
  });
});
