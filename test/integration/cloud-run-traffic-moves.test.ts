import assert from 'node:assert/strict';
import { PermanentError } from '../../shared/errors.js';
import type { CloudRunPlatform } from '../../shared/adapters/gcp/cloud-run-platform.js';
import { PREVIOUS_REVISION_ANNOTATION } from '../../shared/adapters/gcp/cloud-run-service-spec.js';
import type { CloudRunFake } from '../support/fakes/cloud-run-fake.js';
import {
  PARENT,
  PlatformFixture,
  REVISION,
  SERVICE_NAME,
  SERVICE_URL,
  rejection,
  spec,
  tagUrl,
} from './support/cloud-run-platform-fixture.js';

// Moving traffic once revisions are deployed (every revision here starts;
// failed ones are in cloud-run-failed-revisions.test.ts).
describe('CloudRunPlatform promote, rollback, discard and describe over real gRPC', () => {
  let fixture: PlatformFixture;
  let fake: CloudRunFake;
  let platform: CloudRunPlatform;

  const updates = () => fixture.updates();

  beforeEach(async () => {
    fixture = await PlatformFixture.start();
    ({ fake, platform } = fixture);
  });

  afterEach(async () => {
    await fixture.stop();
  });

  it('promotes: 100% to the revision, the replaced one kept at 0% with its tag and remembered', async () => {
    await platform.deployRevision(spec(1));
    await platform.deployRevision(spec(2));

    const traffic = await platform.promote('rec-shop', 'rec-shop-r2');

    assert.deepEqual(traffic, {
      service: 'rec-shop',
      serviceUrl: SERVICE_URL,
      liveRevision: 'rec-shop-r2',
      previousRevision: 'rec-shop-r1',
      targets: [
        { revision: 'rec-shop-r2', percent: 100, tag: 'run-2', url: tagUrl('run-2') },
        { revision: 'rec-shop-r1', percent: 0, tag: 'run-1', url: tagUrl('run-1') },
      ],
    });
    const promote = updates()[1];
    assert.deepEqual(promote?.service?.traffic, [
      { type: REVISION, revision: 'rec-shop-r2', percent: 100, tag: 'run-2' },
      { type: REVISION, revision: 'rec-shop-r1', percent: 0, tag: 'run-1' },
    ]);
    assert.equal(promote?.service?.annotations?.[PREVIOUS_REVISION_ANNOTATION], 'rec-shop-r1');
    // Traffic-only: the template goes back unchanged, so no new revision is created.
    assert.equal(promote?.service?.template?.revision, 'rec-shop-r2');
    assert.equal(
      fake.service('rec-shop')?.latestCreatedRevision,
      `${SERVICE_NAME}/revisions/rec-shop-r2`,
    );

    await platform.promote('rec-shop', 'rec-shop-r2');
    assert.equal(updates().length, 2, 'promoting the live revision again changes nothing');
  });

  it('rolls back to the remembered revision, and names the one it replaced in turn', async () => {
    await platform.deployRevision(spec(1));
    await platform.deployRevision(spec(2));
    await platform.promote('rec-shop', 'rec-shop-r2');

    const traffic = await platform.rollback('rec-shop');

    assert.equal(traffic.liveRevision, 'rec-shop-r1');
    assert.equal(traffic.previousRevision, 'rec-shop-r2');
    assert.deepEqual(updates()[2]?.service?.traffic, [
      { type: REVISION, revision: 'rec-shop-r1', percent: 100, tag: 'run-1' },
      { type: REVISION, revision: 'rec-shop-r2', percent: 0, tag: 'run-2' },
    ]);

    const explicit = await platform.rollback('rec-shop', 'rec-shop-r2');
    assert.equal(explicit.liveRevision, 'rec-shop-r2');
  });

  it('refuses a rollback with nothing to go back to, and one on a missing service', async () => {
    await platform.deployRevision(spec(1));

    const none = await rejection(platform.rollback('rec-shop'));
    assert.ok(none instanceof PermanentError);
    assert.equal(none.code, 'PLATFORM.NOT_FOUND');
    assert.match(none.message, /rec-shop has no recdeploy\.dev\/previous-revision annotation/);

    const missing = await rejection(platform.rollback('no-such-service'));
    assert.ok(missing instanceof PermanentError);
    assert.equal(missing.code, 'PLATFORM.NOT_FOUND');
    assert.equal(
      missing.message,
      'cannot roll back: Cloud Run service no-such-service does not exist',
    );
    assert.equal(updates().length, 0);
  });

  it('refuses to promote a revision the service does not have', async () => {
    await platform.deployRevision(spec(1));

    const error = await rejection(platform.promote('rec-shop', 'rec-shop-r9'));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REJECTED');
    // Cloud Run accepts the update; its reconciliation fails with code 13,
    // which is final for a missing revision (not retried as INTERNAL).
    assert.equal(
      error.message,
      "Cloud Run promote failed: Revision 'rec-shop-r9' does not exist or is deleted. Update all traffic to route to currently available revisions.",
    );
    assert.equal(updates().length, 1);
    assert.equal((await platform.describe('rec-shop'))?.liveRevision, 'rec-shop-r1');
  });

  it('discards a 0% revision by dropping its target and tag; a second discard is a no-op', async () => {
    await platform.deployRevision(spec(1));
    await platform.deployRevision(spec(2));

    await platform.discardRevision('rec-shop', 'rec-shop-r2');

    assert.deepEqual(updates()[1]?.service?.traffic, [
      { type: REVISION, revision: 'rec-shop-r1', percent: 100, tag: 'run-1' },
    ]);
    const traffic = await platform.describe('rec-shop');
    assert.deepEqual(
      traffic?.targets.map((t) => t.revision),
      ['rec-shop-r1'],
    );

    await platform.discardRevision('rec-shop', 'rec-shop-r2');
    await platform.discardRevision('no-such-service', 'x');
    assert.equal(updates().length, 2);
  });

  it('refuses to discard a revision that has traffic', async () => {
    await platform.deployRevision(spec(1));

    const error = await rejection(platform.discardRevision('rec-shop', 'rec-shop-r1'));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REJECTED');
    assert.equal(
      error.message,
      'refusing to discard revision rec-shop-r1 of Cloud Run service rec-shop: it has 100% of traffic',
    );
    assert.equal(updates().length, 0);
  });

  it('describes a missing service as undefined', async () => {
    assert.equal(await platform.describe('no-such-service'), undefined);
    assert.deepEqual(fake.requestsOf('GetService'), [
      { name: `${PARENT}/services/no-such-service` },
    ]);
  });
});
