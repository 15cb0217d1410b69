import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { PermanentError, TransientError } from '../../shared/errors.js';
import type { RecordingLogger } from '../../shared/logging/recording-logger.js';
import type { CloudRunPlatform } from '../../shared/adapters/gcp/cloud-run-platform.js';
import type { CloudRunFake, CreateServiceRequestWire } from '../support/fakes/cloud-run-fake.js';
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

// Deploys and their retries when every revision starts. Promote, rollback,
// discard and describe are in cloud-run-traffic-moves.test.ts; revisions that
// fail to start in cloud-run-failed-revisions.test.ts.
describe('CloudRunPlatform deploys over real gRPC to a fake Cloud Run', () => {
  let fixture: PlatformFixture;
  let fake: CloudRunFake;
  let logger: RecordingLogger;
  let platform: CloudRunPlatform;

  const updates = () => fixture.updates();

  beforeEach(async () => {
    fixture = await PlatformFixture.start();
    ({ fake, logger, platform } = fixture);
  });

  afterEach(async () => {
    await fixture.stop();
  });

  it('creates no client and sends nothing before the first call', () => {
    assert.deepEqual(fake.requests, []);
  });

  it('creates the service on the first deploy with the exact template, traffic and settings', async () => {
    const deployed = await platform.deployRevision(spec(1));

    assert.deepEqual(deployed, {
      service: 'rec-shop',
      revision: 'rec-shop-r1',
      tagUrl: tagUrl('run-1'),
      serviceUrl: SERVICE_URL,
    });
    assert.deepEqual(fake.requestsOf<CreateServiceRequestWire>('CreateService'), [
      {
        parent: PARENT,
        serviceId: 'rec-shop',
        service: {
          labels: { managed_by: 'recdeploy' },
          annotations: {
            'recdeploy.dev/public': 'false',
            'recdeploy.dev/public-revision': 'rec-shop-r1',
          },
          ingress: 'INGRESS_TRAFFIC_ALL',
          invokerIamDisabled: false,
          scaling: { minInstanceCount: 0 },
          template: {
            revision: 'rec-shop-r1',
            labels: { training_run_id: 'run-1' },
            annotations: { 'recdeploy.dev/env-names': 'MODEL_NAME,MODEL_PATH' },
            scaling: { minInstanceCount: 0, maxInstanceCount: 10 },
            timeout: { seconds: '300' },
            maxInstanceRequestConcurrency: 80,
            containers: [
              {
                image: 'us-docker.pkg.dev/p/serving/tf:1',
                env: [
                  { name: 'MODEL_NAME', value: 'shop' },
                  { name: 'MODEL_PATH', value: 'gs://models/shop/1' },
                ],
                ports: [{ name: 'http1', containerPort: 8501 }],
                resources: {
                  limits: { cpu: '2', memory: '4Gi' },
                  cpuIdle: true,
                  startupCpuBoost: true,
                },
                startupProbe: {
                  httpGet: { path: '/v1/models/shop', port: 8501 },
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                  failureThreshold: 24,
                },
              },
            ],
          },
          traffic: [{ type: REVISION, revision: 'rec-shop-r1', percent: 100, tag: 'run-1' }],
        },
      },
    ]);
    assert.deepEqual(updates(), []);
    assert.deepEqual(fake.requestsOf('SetIamPolicy'), [], 'a private service gets no IAM change');
  });

  it('adds a second revision at 0% with its tag and leaves the live one at 100%', async () => {
    await platform.deployRevision(spec(1));
    const etagBefore = fake.service('rec-shop')?.etag;

    const deployed = await platform.deployRevision(spec(2));

    assert.equal(deployed.tagUrl, tagUrl('run-2'));
    assert.equal(deployed.serviceUrl, SERVICE_URL);
    const [update] = updates();
    assert.equal(updates().length, 1);
    assert.equal(update?.service?.name, SERVICE_NAME);
    assert.equal(update?.service?.etag, etagBefore);
    assert.equal(update?.service?.template?.revision, 'rec-shop-r2');
    assert.equal(
      update?.service?.template?.containers?.[0]?.image,
      'us-docker.pkg.dev/p/serving/tf:2',
    );
    assert.deepEqual(update?.service?.traffic, [
      { type: REVISION, revision: 'rec-shop-r1', percent: 100, tag: 'run-1' },
      { type: REVISION, revision: 'rec-shop-r2', percent: 0, tag: 'run-2' },
    ]);
    const traffic = await platform.describe('rec-shop');
    assert.equal(traffic?.liveRevision, 'rec-shop-r1');
  });

  it('sends no second update when the same deploy is retried', async () => {
    await platform.deployRevision(spec(1));
    const first = await platform.deployRevision(spec(2));

    const again = await platform.deployRevision(spec(2));

    assert.deepEqual(again, first);
    assert.equal(updates().length, 1);
    assert.equal(fake.requestsOf('CreateService').length, 1);
    assert.ok(logger.lines.some((l) => l.message.includes('not updating it again')));
  });

  it('re-reads and retries when the etag went stale between read and update', async () => {
    await platform.deployRevision(spec(1));
    fake.beforeNext('UpdateService', () =>
      fake.touchService('rec-shop', { 'ops.example/owner': 'team-a' }),
    );

    await platform.deployRevision(spec(2));

    const [stale, fresh] = updates();
    assert.equal(updates().length, 2);
    assert.equal(
      fake.requests.filter((r) => r.method === 'UpdateService')[0]?.errorCode,
      grpc.status.ABORTED,
    );
    assert.notEqual(stale?.service?.etag, fresh?.service?.etag);
    // The second attempt is built from the re-read service: the other writer's change survives.
    assert.equal(fresh?.service?.annotations?.['ops.example/owner'], 'team-a');
    assert.equal(fake.service('rec-shop')?.annotations?.['ops.example/owner'], 'team-a');
  });

  it('gives up with a transient PLATFORM.CONFLICT when every attempt meets a new etag', async () => {
    await platform.deployRevision(spec(1));
    for (let i = 0; i < 4; i++) {
      fake.beforeNext('UpdateService', () => fake.touchService('rec-shop', { n: String(i) }));
    }

    const error = await rejection(platform.deployRevision(spec(2)));

    assert.ok(error instanceof TransientError);
    assert.equal(error.code, 'PLATFORM.CONFLICT');
    assert.match(error.message, /still conflicted after 4 attempts: 10 ABORTED: etag mismatch/);
    assert.equal(updates().length, 4);
  });

  it('after an ambiguous failure that did take effect, finds the revision instead of updating again', async () => {
    await platform.deployRevision(spec(1));
    fake.failNext('UpdateService', grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded', true);

    const deployed = await platform.deployRevision(spec(2));

    assert.equal(deployed.tagUrl, tagUrl('run-2'));
    assert.equal(updates().length, 1);
  });

  it('after an ambiguous failure that did not take effect, updates again', async () => {
    await platform.deployRevision(spec(1));
    fake.failNext('UpdateService', grpc.status.UNKNOWN, 'connection reset');

    const deployed = await platform.deployRevision(spec(2));

    assert.equal(deployed.tagUrl, tagUrl('run-2'));
    assert.equal(updates().length, 2);
    assert.deepEqual(updates()[0], updates()[1], 'the retry sends the identical request');
  });

  it('refuses a different template under an existing revision name, without retrying', async () => {
    await platform.deployRevision(spec(1));
    await platform.deployRevision(spec(2));

    const error = await rejection(
      platform.deployRevision(
        spec(2, { tag: 'run-2b', image: 'us-docker.pkg.dev/p/serving/tf:other' }),
      ),
    );

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REJECTED');
    assert.match(
      error.message,
      /Revision named 'rec-shop-r2' with different configuration already exists/,
    );
    assert.equal(updates().length, 2);
  });

  it('treats "different configuration" as final whatever gRPC code carries it', async () => {
    await platform.deployRevision(spec(1));
    const refusal = "Revision named 'rec-shop-r2' with different configuration already exists.";
    fake.failNext('UpdateService', grpc.status.FAILED_PRECONDITION, refusal);

    const error = await rejection(platform.deployRevision(spec(2)));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REJECTED');
    assert.equal(
      error.message,
      `Cloud Run deployRevision failed: 9 FAILED_PRECONDITION: ${refusal}`,
    );
    assert.equal(updates().length, 1);
  });

  it('fails with a TransientError when the service is still reconciling at the deadline', async () => {
    await fixture.reset(200);
    platform = fixture.platform;
    fake.holdOperations();

    const error = await rejection(platform.deployRevision(spec(1)));

    assert.ok(error instanceof TransientError);
    assert.equal(error.code, 'DEPENDENCY.UNAVAILABLE');
    assert.match(
      error.message,
      new RegExp(
        `^Cloud Run service ${SERVICE_NAME} still reconciling when the call's wait ran out \\(\\d{4}-`,
      ),
    );
  });

  it('maps a refused request to PermanentError PLATFORM.REJECTED', async () => {
    fake.failNext(
      'CreateService',
      grpc.status.PERMISSION_DENIED,
      "Permission 'run.services.create' denied",
    );

    const error = await rejection(platform.deployRevision(spec(1)));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REJECTED');
    assert.match(
      error.message,
      /^Cloud Run deployRevision failed: Permission 'run\.services\.create' denied$/,
    );
  });
});
