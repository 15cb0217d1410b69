import assert from 'node:assert/strict';
import { ServicesClient } from '@google-cloud/run';
import { PermanentError } from '../../shared/errors.js';
import type { TrafficShare } from '../../shared/ports/serving-platform.port.js';
import type { CloudRunPlatform } from '../../shared/adapters/gcp/cloud-run-platform.js';
import { PREVIOUS_REVISION_ANNOTATION } from '../../shared/adapters/gcp/cloud-run-service-spec.js';
import type { CloudRunFake } from '../support/fakes/cloud-run-fake.js';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';
import {
  PlatformFixture,
  REVISION,
  SERVICE_NAME,
  SERVICE_URL,
  rejection,
  spec,
  tagUrl,
  target,
} from './support/cloud-run-platform-fixture.js';

// Canary steps: splitTraffic between a stable revision (rec-shop-r1, live)
// and a canary (rec-shop-r2, deployed at 0% with its tag), then promote or
// roll back. Every revision here starts.

const R1 = 'rec-shop-r1';
const R2 = 'rec-shop-r2';
const share = (revision: string, percent: number): TrafficShare => ({ revision, percent });
/** A target as describe/splitTraffic report it (observed, with its tag URL). */
const observed = (revision: string, percent: number, tag: string) => ({
  revision,
  percent,
  tag,
  url: tagUrl(tag),
});

describe('CloudRunPlatform.splitTraffic over real gRPC', () => {
  let fixture: PlatformFixture;
  let fake: CloudRunFake;
  let platform: CloudRunPlatform;

  const updates = () => fixture.updates();
  const trafficSent = () => updates().map((u) => u.service?.traffic);

  beforeEach(async () => {
    fixture = await PlatformFixture.start();
    ({ fake, platform } = fixture);
    await platform.deployRevision(spec(1));
    await platform.deployRevision(spec(2));
  });

  afterEach(async () => {
    await fixture.stop();
  });

  it('splits 10/90, then 50/50, then promotes the canary remembering the stable revision', async () => {
    const first = await platform.splitTraffic('rec-shop', [share(R2, 10), share(R1, 90)]);

    // No liveRevision while no revision has 100%; each target carries its share.
    assert.deepEqual(first, {
      service: 'rec-shop',
      serviceUrl: SERVICE_URL,
      targets: [observed(R2, 10, 'run-2'), observed(R1, 90, 'run-1')],
    });
    const second = await platform.splitTraffic('rec-shop', [share(R2, 50), share(R1, 50)]);
    assert.deepEqual(second.targets, [observed(R2, 50, 'run-2'), observed(R1, 50, 'run-1')]);
    assert.equal(second.liveRevision, undefined);

    const promoted = await platform.promote('rec-shop', R2);

    assert.deepEqual(promoted, {
      service: 'rec-shop',
      serviceUrl: SERVICE_URL,
      liveRevision: R2,
      previousRevision: R1,
      targets: [observed(R2, 100, 'run-2'), observed(R1, 0, 'run-1')],
    });
    // The deploy of r2, two splits (tags kept, template untouched), the promote.
    assert.deepEqual(trafficSent().slice(1), [
      [target(R2, 10, 'run-2'), target(R1, 90, 'run-1')],
      [target(R2, 50, 'run-2'), target(R1, 50, 'run-1')],
      [target(R2, 100, 'run-2'), target(R1, 0, 'run-1')],
    ]);
    assert.deepEqual(
      updates().map((u) => u.service?.template?.revision),
      [R2, R2, R2, R2],
    );
    assert.equal(updates()[3]?.service?.annotations?.[PREVIOUS_REVISION_ANNOTATION], R1);
  });

  it('remembers the stable revision also when the canary already has the larger share', async () => {
    await platform.splitTraffic('rec-shop', [share(R2, 90), share(R1, 10)]);

    const promoted = await platform.promote('rec-shop', R2);

    assert.equal(promoted.previousRevision, R1);
    assert.deepEqual(trafficSent()[2], [target(R2, 100, 'run-2'), target(R1, 0, 'run-1')]);
  });

  it('rolls back from a split: 100% to the stable revision, the canary kept at 0% with its tag', async () => {
    await platform.splitTraffic('rec-shop', [share(R2, 10), share(R1, 90)]);

    const traffic = await platform.rollback('rec-shop', R1);

    assert.equal(traffic.liveRevision, R1);
    assert.equal(traffic.previousRevision, R2);
    assert.deepEqual(traffic.targets, [observed(R1, 100, 'run-1'), observed(R2, 0, 'run-2')]);
    assert.deepEqual(trafficSent()[2], [target(R1, 100, 'run-1'), target(R2, 0, 'run-2')]);
  });

  it('makes no write for a split the service already serves', async () => {
    await platform.splitTraffic('rec-shop', [share(R2, 10), share(R1, 90)]);
    const before = updates().length;

    // Same shares, listed in another order.
    const again = await platform.splitTraffic('rec-shop', [share(R1, 90), share(R2, 10)]);

    assert.equal(updates().length, before);
    assert.deepEqual(again.targets, [observed(R2, 10, 'run-2'), observed(R1, 90, 'run-1')]);
  });

  it('keeps the tags of revisions still under verification at 0%, and of a revision leaving the split', async () => {
    await platform.deployRevision(spec(3));
    await platform.splitTraffic('rec-shop', [share(R2, 10), share(R1, 90)]);

    // r1 leaves the split: its tag stays (its URL still reaches it).
    const traffic = await platform.splitTraffic('rec-shop', [
      share('rec-shop-r3', 20),
      share(R2, 80),
    ]);

    assert.deepEqual(trafficSent().slice(2), [
      [target(R2, 10, 'run-2'), target(R1, 90, 'run-1'), target('rec-shop-r3', 0, 'run-3')],
      [target('rec-shop-r3', 20, 'run-3'), target(R2, 80, 'run-2'), target(R1, 0, 'run-1')],
    ]);
    assert.deepEqual(traffic.targets, [
      observed('rec-shop-r3', 20, 'run-3'),
      observed(R2, 80, 'run-2'),
      observed(R1, 0, 'run-1'),
    ]);
  });

  const invalid: [string, TrafficShare[], string][] = [
    ['no share', [], 'a split needs at least one revision'],
    ['a total under 100', [share(R2, 10), share(R1, 89)], 'the shares total 99%, not 100%'],
    ['a total over 100', [share(R2, 20), share(R1, 90)], 'the shares total 110%, not 100%'],
    [
      'a 0% share',
      [share(R2, 0), share(R1, 100)],
      'revision rec-shop-r2 is given 0%: shares are whole percents from 1 to 100',
    ],
    [
      'a fractional share',
      [share(R2, 10.5), share(R1, 89.5)],
      'revision rec-shop-r2 is given 10.5%: shares are whole percents from 1 to 100',
    ],
    [
      'a share over 100',
      [share(R2, 101), share(R1, -1)],
      'revision rec-shop-r2 is given 101%: shares are whole percents from 1 to 100',
    ],
    [
      'a revision listed twice',
      [share(R2, 10), share(R2, 10), share(R1, 80)],
      'revision rec-shop-r2 appears more than once',
    ],
    ['an unnamed revision', [share('', 10), share(R1, 90)], 'every share must name a revision'],
  ];
  for (const [what, split, problem] of invalid) {
    it(`refuses ${what} before reading or writing the service`, async () => {
      const sent = fake.requests.length;

      const error = await rejection(platform.splitTraffic('rec-shop', split));

      assert.ok(error instanceof PermanentError);
      assert.equal(error.code, 'PLATFORM.REJECTED');
      assert.equal(
        error.message,
        `refusing to split the traffic of Cloud Run service rec-shop: ${problem}`,
      );
      assert.equal(fake.requests.length, sent, 'no request reached Cloud Run');
    });
  }

  it('refuses a split naming a revision the service does not have; what served still serves', async () => {
    const error = await rejection(
      platform.splitTraffic('rec-shop', [share('rec-shop-r9', 10), share(R1, 90)]),
    );

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REJECTED');
    assert.equal(
      error.message,
      "Cloud Run splitTraffic failed: Revision 'rec-shop-r9' does not exist or is deleted. Update all traffic to route to currently available revisions.",
    );
    assert.deepEqual((await platform.describe('rec-shop'))?.targets, [
      observed(R1, 100, 'run-1'),
      observed(R2, 0, 'run-2'),
    ]);

    // The failed reconciliation leaves r9 in the desired traffic; the next
    // split is planned from what serves and reconciles.
    const traffic = await platform.splitTraffic('rec-shop', [share(R2, 10), share(R1, 90)]);
    assert.deepEqual(traffic.targets, [observed(R2, 10, 'run-2'), observed(R1, 90, 'run-1')]);
  });

  it('refuses a split of a service that does not exist', async () => {
    const error = await rejection(platform.splitTraffic('no-such-service', [share(R1, 100)]));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.NOT_FOUND');
    assert.equal(updates().length, 1, 'only the deploy of rec-shop-r2 (r1 created the service)');
  });
});

describe('Cloud Run fake: traffic updates as the real client sees them', () => {
  let fixture: PlatformFixture;
  let client: ServicesClient;

  beforeEach(async () => {
    fixture = await PlatformFixture.start();
    await fixture.platform.deployRevision(spec(1));
    await fixture.platform.deployRevision(spec(2));
    client = new ServicesClient(fakeClientOptions(fixture.fake.port));
  });

  afterEach(async () => {
    await client.close();
    await fixture.stop();
  });

  it('refuses traffic that does not total 100 with INVALID_ARGUMENT, changing nothing', async () => {
    const [current] = await client.getService({ name: SERVICE_NAME });

    const error = await rejection(
      client.updateService({
        service: { ...current, traffic: [target(R2, 10, 'run-2'), target(R1, 80, 'run-1')] },
      }),
    );

    assert.equal((error as { code?: unknown }).code, 3, 'INVALID_ARGUMENT');
    assert.match(String((error as Error).message), /Traffic targets sum to 90, want 100/);
    const [after] = await client.getService({ name: SERVICE_NAME });
    assert.equal(after.etag, current.etag);
  });

  it('accepts a split naming a missing revision, then fails its reconciliation with code 13', async () => {
    const [current] = await client.getService({ name: SERVICE_NAME });
    const traffic = [
      { type: REVISION, revision: 'rec-shop-r9', percent: 10 },
      target(R1, 90, 'run-1'),
    ];

    const [operation] = await client.updateService({ service: { ...current, traffic } });
    const error = await rejection(operation.promise());
    const [service] = await client.getService({ name: SERVICE_NAME });

    assert.equal((error as { code?: unknown }).code, 13, 'INTERNAL');
    assert.match(String((error as Error).message), /Revision 'rec-shop-r9' does not exist/);
    assert.deepEqual(
      service.traffic?.map((t) => [t.revision, t.percent]),
      [
        ['rec-shop-r9', 10],
        [R1, 90],
      ],
    );
    // The last serving state stays observed (service.proto, `reconciling`).
    assert.deepEqual(
      service.trafficStatuses?.map((t) => [t.revision, t.percent, t.tag]),
      [
        [R1, 100, 'run-1'],
        [R2, 0, 'run-2'],
      ],
    );
    assert.equal(service.terminalCondition?.state, 'CONDITION_FAILED');
  });
});
