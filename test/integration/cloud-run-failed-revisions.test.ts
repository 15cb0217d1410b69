import assert from 'node:assert/strict';
import { ServicesClient } from '@google-cloud/run';
import { PermanentError, TransientError } from '../../shared/errors.js';
import type { RecordingLogger } from '../../shared/logging/recording-logger.js';
import type { CloudRunPlatform } from '../../shared/adapters/gcp/cloud-run-platform.js';
import { PREVIOUS_REVISION_ANNOTATION } from '../../shared/adapters/gcp/cloud-run-service-spec.js';
import { CloudRunFake, type CreateServiceRequestWire } from '../support/fakes/cloud-run-fake.js';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';
import {
  PARENT,
  PlatformFixture,
  SERVICE_NAME,
  SERVICE_URL,
  rejection,
  spec,
  tagUrl,
  target,
} from './support/cloud-run-platform-fixture.js';

const STARTUP_PROBE_FAILED =
  'The user-provided container failed the configured startup probe checks.';
/** How Cloud Run words a revision that did not start (see cloud-run-fake-services.ts). */
const notReady = (revision: string, reason: string) =>
  `Revision '${revision}' is not ready and cannot serve traffic. ${reason}`;

// On Cloud Run a revision that fails to start stays in the desired `traffic`
// while `trafficStatuses` and `latestReadyRevision` keep what really serves
// (service.proto, `reconciling`). These suites check that the fake answers
// that way to the real client, and that the adapter reads what serves from
// the observed fields, so a failed revision never blocks later deploys.

describe('Cloud Run fake: a failed reconciliation as the real client sees it', () => {
  let fake: CloudRunFake;
  let client: ServicesClient;

  beforeEach(async () => {
    fake = new CloudRunFake();
    await fake.start();
    client = new ServicesClient(fakeClientOptions(fake.port));
  });

  afterEach(async () => {
    await client.close();
    await fake.stop();
  });

  const template = (revision: string) => ({
    revision,
    containers: [{ image: 'us-docker.pkg.dev/p/serving/tf:1' }],
  });

  it('a service whose first revision failed: operation error, failed revision only in `traffic`', async () => {
    fake.failRevision('rec-shop-r1', STARTUP_PROBE_FAILED);
    const traffic = [target('rec-shop-r1', 100, 'run-1')];

    const [operation] = await client.createService({
      parent: PARENT,
      serviceId: 'rec-shop',
      service: { template: template('rec-shop-r1'), traffic },
    });
    const error = await rejection(operation.promise());
    const [service] = await client.getService({ name: SERVICE_NAME });

    assert.equal((error as { code?: unknown }).code, 9, 'FAILED_PRECONDITION');
    assert.match(String((error as Error).message), /Revision 'rec-shop-r1' is not ready/);
    assert.deepEqual(fake.requestsOf<CreateServiceRequestWire>('CreateService'), [
      {
        parent: PARENT,
        serviceId: 'rec-shop',
        service: { template: template('rec-shop-r1'), traffic },
      },
    ]);
    assert.equal(service.reconciling, false);
    assert.deepEqual(
      service.traffic?.map((t) => [t.revision, t.percent, t.tag]),
      [['rec-shop-r1', 100, 'run-1']],
    );
    assert.deepEqual(service.trafficStatuses, []);
    assert.equal(service.latestReadyRevision, '');
    assert.equal(service.latestCreatedRevision, `${SERVICE_NAME}/revisions/rec-shop-r1`);
    assert.equal(service.generation, '1');
    assert.equal(service.observedGeneration, '0');
    assert.equal(service.terminalCondition?.type, 'Ready');
    assert.equal(service.terminalCondition?.state, 'CONDITION_FAILED');
    assert.equal(service.terminalCondition?.message, notReady('rec-shop-r1', STARTUP_PROBE_FAILED));
  });

  it('a later revision that failed: the last serving state stays observed', async () => {
    const [create] = await client.createService({
      parent: PARENT,
      serviceId: 'rec-shop',
      service: {
        template: template('rec-shop-r1'),
        traffic: [target('rec-shop-r1', 100, 'run-1')],
      },
    });
    await create.promise();
    fake.failRevision('rec-shop-r2', STARTUP_PROBE_FAILED);
    const [current] = await client.getService({ name: SERVICE_NAME });
    const traffic = [target('rec-shop-r1', 100, 'run-1'), target('rec-shop-r2', 0, 'run-2')];

    const [update] = await client.updateService({
      service: { ...current, template: template('rec-shop-r2'), traffic },
    });
    await rejection(update.promise());
    const [service] = await client.getService({ name: SERVICE_NAME });

    assert.equal(fake.requestsOf('UpdateService').length, 1);
    assert.deepEqual(
      service.traffic?.map((t) => [t.revision, t.percent, t.tag]),
      [
        ['rec-shop-r1', 100, 'run-1'],
        ['rec-shop-r2', 0, 'run-2'],
      ],
    );
    assert.deepEqual(
      service.trafficStatuses?.map((t) => [t.revision, t.percent, t.tag, t.uri]),
      [['rec-shop-r1', 100, 'run-1', tagUrl('run-1')]],
    );
    assert.equal(service.latestReadyRevision, `${SERVICE_NAME}/revisions/rec-shop-r1`);
    assert.equal(service.latestCreatedRevision, `${SERVICE_NAME}/revisions/rec-shop-r2`);
    assert.deepEqual([service.generation, service.observedGeneration], ['2', '1']);
    assert.equal(service.terminalCondition?.state, 'CONDITION_FAILED');
    assert.equal(service.conditions?.[0]?.type, 'ConfigurationsReady');
  });
});

describe('CloudRunPlatform when revisions fail to start', () => {
  let fixture: PlatformFixture;
  let fake: CloudRunFake;
  let logger: RecordingLogger;
  let platform: CloudRunPlatform;

  const updates = () => fixture.updates();
  const trafficSent = () => updates().map((u) => u.service?.traffic);

  beforeEach(async () => {
    fixture = await PlatformFixture.start();
    ({ fake, logger, platform } = fixture);
  });

  afterEach(async () => {
    await fixture.stop();
  });

  /** Live rec-shop-r1, then rec-shop-r2 fails to start. */
  async function liveThenFailed(): Promise<void> {
    await platform.deployRevision(spec(1));
    fake.failRevision('rec-shop-r2', STARTUP_PROBE_FAILED);
    await rejection(platform.deployRevision(spec(2)));
  }

  it('reports a revision that cannot start as PLATFORM.REVISION_FAILED and keeps traffic where it was', async () => {
    await platform.deployRevision(spec(1));
    fake.failRevision('rec-shop-r2', STARTUP_PROBE_FAILED);

    const error = await rejection(platform.deployRevision(spec(2)));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REVISION_FAILED');
    assert.equal(
      error.message,
      `Cloud Run revision rec-shop-r2 of service rec-shop failed: ${notReady('rec-shop-r2', STARTUP_PROBE_FAILED)}`,
    );
    assert.equal((await platform.describe('rec-shop'))?.liveRevision, 'rec-shop-r1');

    const again = await rejection(platform.deployRevision(spec(2)));
    assert.equal((again as PermanentError).code, 'PLATFORM.REVISION_FAILED');
    assert.equal(updates().length, 1, 'the retry finds the failed revision instead of updating');
  });

  it('after a failed first revision, gives the next one 100% without the failed one; it reconciles and goes live', async () => {
    fake.failRevision('rec-shop-r1', STARTUP_PROBE_FAILED);

    const failed = await rejection(platform.deployRevision(spec(1)));

    assert.ok(failed instanceof PermanentError);
    assert.equal(failed.code, 'PLATFORM.REVISION_FAILED');
    assert.deepEqual(
      fake.requestsOf<CreateServiceRequestWire>('CreateService').map((r) => r.service?.traffic),
      [[target('rec-shop-r1', 100, 'run-1')]],
    );
    // Nothing serves, whatever the desired traffic still says.
    assert.deepEqual(fake.service('rec-shop')?.traffic, [target('rec-shop-r1', 100, 'run-1')]);
    assert.deepEqual(await platform.describe('rec-shop'), {
      service: 'rec-shop',
      serviceUrl: '',
      targets: [],
    });
    const etag = fake.service('rec-shop')?.etag;

    const deployed = await platform.deployRevision(spec(2));

    assert.deepEqual(deployed, {
      service: 'rec-shop',
      revision: 'rec-shop-r2',
      tagUrl: tagUrl('run-2'),
      serviceUrl: SERVICE_URL,
    });
    const [update] = updates();
    assert.equal(updates().length, 1);
    assert.equal(update?.service?.name, SERVICE_NAME);
    assert.equal(update?.service?.etag, etag);
    assert.equal(update?.service?.template?.revision, 'rec-shop-r2');
    assert.deepEqual(update?.service?.traffic, [target('rec-shop-r2', 100, 'run-2')]);
    assert.ok(logger.lines.some((l) => l.message === 'adding revision with 100% traffic'));

    const promoted = await platform.promote('rec-shop', 'rec-shop-r2');

    const live = {
      service: 'rec-shop',
      serviceUrl: SERVICE_URL,
      liveRevision: 'rec-shop-r2',
      targets: [{ revision: 'rec-shop-r2', percent: 100, tag: 'run-2', url: tagUrl('run-2') }],
    };
    assert.deepEqual(promoted, live);
    assert.equal(updates().length, 1, 'it already serves everything: promote sends nothing');
    assert.deepEqual(await platform.describe('rec-shop'), live);
    assert.equal(fake.service('rec-shop')?.terminalCondition?.state, 'CONDITION_SUCCEEDED');
  });

  it('keeps the live revision at 100% when a failed one was given its traffic, and deploys the next at 0%', async () => {
    await liveThenFailed();
    // A promote of the failed revision is accepted, then fails to reconcile:
    // the desired traffic now gives it 100% while rec-shop-r1 still serves.
    const promote = await rejection(platform.promote('rec-shop', 'rec-shop-r2'));
    assert.ok(promote instanceof TransientError);
    assert.equal(
      promote.message,
      `Cloud Run promote failed: ${notReady('rec-shop-r2', STARTUP_PROBE_FAILED)}`,
    );
    assert.deepEqual(fake.service('rec-shop')?.traffic, [
      target('rec-shop-r2', 100, 'run-2'),
      target('rec-shop-r1', 0, 'run-1'),
    ]);

    const deployed = await platform.deployRevision(spec(3));

    assert.equal(deployed.tagUrl, tagUrl('run-3'));
    assert.deepEqual(trafficSent(), [
      [target('rec-shop-r1', 100, 'run-1'), target('rec-shop-r2', 0, 'run-2')],
      [target('rec-shop-r2', 100, 'run-2'), target('rec-shop-r1', 0, 'run-1')],
      [target('rec-shop-r1', 100, 'run-1'), target('rec-shop-r3', 0, 'run-3')],
    ]);
    assert.equal((await platform.describe('rec-shop'))?.liveRevision, 'rec-shop-r1');

    const promoted = await platform.promote('rec-shop', 'rec-shop-r3');

    assert.equal(promoted.liveRevision, 'rec-shop-r3');
    assert.deepEqual(trafficSent()[3], [
      target('rec-shop-r3', 100, 'run-3'),
      target('rec-shop-r1', 0, 'run-1'),
    ]);
    assert.equal(updates()[3]?.service?.annotations?.[PREVIOUS_REVISION_ANNOTATION], 'rec-shop-r1');
  });

  it('describes what Cloud Run serves (trafficStatuses), not the desired traffic, when they differ', async () => {
    await liveThenFailed();
    // An operator sends all traffic to the failed revision by hand
    // (`gcloud run services update-traffic --to-revisions=rec-shop-r2=100`).
    const client = new ServicesClient(fakeClientOptions(fake.port));
    const [current] = await client.getService({ name: SERVICE_NAME });
    const [operation] = await client.updateService({
      service: { ...current, traffic: [target('rec-shop-r2', 100, 'run-2')] },
    });
    await rejection(operation.promise());
    await client.close();

    const traffic = await platform.describe('rec-shop');

    assert.deepEqual(fake.service('rec-shop')?.traffic, [target('rec-shop-r2', 100, 'run-2')]);
    assert.deepEqual(traffic, {
      service: 'rec-shop',
      serviceUrl: SERVICE_URL,
      liveRevision: 'rec-shop-r1',
      targets: [{ revision: 'rec-shop-r1', percent: 100, tag: 'run-1', url: tagUrl('run-1') }],
    });
    assert.deepEqual(fake.requestsOf('GetService').at(-1), { name: SERVICE_NAME });
  });

  it('leaves a revision that failed to start out of the next deploy, which then reconciles', async () => {
    await liveThenFailed();

    const deployed = await platform.deployRevision(spec(3));

    assert.equal(deployed.tagUrl, tagUrl('run-3'));
    assert.deepEqual(trafficSent(), [
      [target('rec-shop-r1', 100, 'run-1'), target('rec-shop-r2', 0, 'run-2')],
      [target('rec-shop-r1', 100, 'run-1'), target('rec-shop-r3', 0, 'run-3')],
    ]);
    assert.equal((await platform.describe('rec-shop'))?.liveRevision, 'rec-shop-r1');
  });

  it('discards a revision that failed to start: its target leaves the desired traffic', async () => {
    await liveThenFailed();

    await platform.discardRevision('rec-shop', 'rec-shop-r2');

    assert.deepEqual(trafficSent()[1], [target('rec-shop-r1', 100, 'run-1')]);
    assert.deepEqual(fake.service('rec-shop')?.traffic, trafficSent()[1]);
    // The service template still names the failed revision, so Cloud Run reports the failure again.
    assert.ok(
      logger.lines.some((l) => l.level === 'warn' && l.message.includes('did not reconcile')),
    );
  });

  it('discards a failed revision the desired traffic gave 100%: it serves nothing, what serves stays', async () => {
    await liveThenFailed();
    await rejection(platform.promote('rec-shop', 'rec-shop-r2'));

    await platform.discardRevision('rec-shop', 'rec-shop-r2');

    assert.deepEqual(trafficSent()[2], [target('rec-shop-r1', 100, 'run-1')]);
    assert.equal((await platform.describe('rec-shop'))?.liveRevision, 'rec-shop-r1');
  });
});
