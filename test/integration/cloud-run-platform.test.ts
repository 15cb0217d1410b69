import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { PermanentError, TransientError } from '../../shared/errors.js';
import { RecordingLogger } from '../../shared/logging/recording-logger.js';
import type { RevisionSpec } from '../../shared/ports/serving-platform.port.js';
import { CloudRunPlatform } from '../../shared/adapters/gcp/cloud-run-platform.js';
import { PREVIOUS_REVISION_ANNOTATION } from '../../shared/adapters/gcp/cloud-run-service-spec.js';
import {
  CloudRunFake,
  type CreateServiceRequestWire,
  type UpdateServiceRequestWire,
} from '../support/fakes/cloud-run-fake.js';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';

const PARENT = 'projects/test-project/locations/us-central1';
const SERVICE_NAME = `${PARENT}/services/rec-shop`;
const SERVICE_URL = 'https://rec-shop-abc123-uc.a.run.app';
const tagUrl = (tag: string) => `https://${tag}---rec-shop-abc123-uc.a.run.app`;
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';

function spec(n: number, overrides: Partial<RevisionSpec> = {}): RevisionSpec {
  return {
    service: 'rec-shop',
    revision: `rec-shop-r${n}`,
    tag: `run-${n}`,
    runtime: 'tf-serving',
    image: `us-docker.pkg.dev/p/serving/tf:${n}`,
    env: { MODEL_PATH: `gs://models/shop/${n}`, MODEL_NAME: 'shop' },
    containerPort: 8501,
    startupProbePath: '/v1/models/shop',
    resources: {
      memory: '4Gi',
      cpu: '2',
      minInstances: 0,
      maxInstances: 10,
      timeoutS: 300,
      concurrency: 80,
    },
    public: false,
    labels: { training_run_id: `run-${n}` },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('CloudRunPlatform over real gRPC to a fake Cloud Run', () => {
  let fake: CloudRunFake;
  let logger: RecordingLogger;
  let platform: CloudRunPlatform;

  function newPlatform(readyTimeoutMs = 5_000): CloudRunPlatform {
    return new CloudRunPlatform({
      projectId: 'test-project',
      region: 'us-central1',
      logger,
      clientOptions: fakeClientOptions(fake.port),
      pollIntervalMs: 10,
      readyTimeoutMs,
    });
  }

  const updates = () => fake.requestsOf<UpdateServiceRequestWire>('UpdateService');

  beforeEach(async () => {
    fake = new CloudRunFake();
    await fake.start();
    logger = new RecordingLogger();
    platform = newPlatform();
  });

  afterEach(async () => {
    await platform.close();
    await fake.stop();
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
          ingress: 'INGRESS_TRAFFIC_ALL',
          invokerIamDisabled: false,
          template: {
            revision: 'rec-shop-r1',
            labels: { training_run_id: 'run-1' },
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

  it('makes a public service by disabling the invoker check, never through IAM', async () => {
    await platform.deployRevision(spec(1, { public: true }));
    await platform.deployRevision(spec(2, { public: true }));

    assert.equal(
      fake.requestsOf<CreateServiceRequestWire>('CreateService')[0]?.service?.invokerIamDisabled,
      true,
    );
    assert.equal(updates()[0]?.service?.invokerIamDisabled, true);
    assert.deepEqual(fake.requestsOf('SetIamPolicy'), []);
  });

  it('reports a revision that cannot start as PLATFORM.REVISION_FAILED and keeps traffic where it was', async () => {
    await platform.deployRevision(spec(1));
    const reason = 'The user-provided container failed the configured startup probe checks.';
    fake.failRevision('rec-shop-r2', reason);

    const error = await rejection(platform.deployRevision(spec(2)));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REVISION_FAILED');
    assert.equal(
      error.message,
      `Cloud Run revision rec-shop-r2 of service rec-shop failed: ${reason}`,
    );
    assert.equal((await platform.describe('rec-shop'))?.liveRevision, 'rec-shop-r1');

    const again = await rejection(platform.deployRevision(spec(2)));
    assert.equal((again as PermanentError).code, 'PLATFORM.REVISION_FAILED');
    assert.equal(updates().length, 1, 'the retry finds the failed revision instead of updating');
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

  it('refuses to promote a revision the service does not have', async () => {
    await platform.deployRevision(spec(1));

    const error = await rejection(platform.promote('rec-shop', 'rec-shop-r9'));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REJECTED');
    assert.equal(error.message, "Cloud Run promote failed: Revision 'rec-shop-r9' does not exist.");
  });

  it('fails with a TransientError when the service is still reconciling at the deadline', async () => {
    await platform.close();
    platform = newPlatform(200);
    fake.holdOperations();

    const error = await rejection(platform.deployRevision(spec(1)));

    assert.ok(error instanceof TransientError);
    assert.equal(error.code, 'DEPENDENCY.UNAVAILABLE');
    assert.equal(error.message, `Cloud Run service ${SERVICE_NAME} still reconciling after 200 ms`);
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

  it('discards a revision that failed to start: its target leaves the desired traffic', async () => {
    await platform.deployRevision(spec(1));
    fake.failRevision('rec-shop-r2', 'container exited with code 1');
    await rejection(platform.deployRevision(spec(2)));

    await platform.discardRevision('rec-shop', 'rec-shop-r2');

    assert.deepEqual(updates()[1]?.service?.traffic, [
      { type: REVISION, revision: 'rec-shop-r1', percent: 100, tag: 'run-1' },
    ]);
    assert.deepEqual(fake.service('rec-shop')?.traffic, updates()[1]?.service?.traffic);
    // The service template still names the failed revision, so Cloud Run reports the failure again.
    assert.ok(
      logger.lines.some((l) => l.level === 'warn' && l.message.includes('did not reconcile')),
    );
  });

  it('leaves a revision that failed to start out of the next deploy, which then reconciles', async () => {
    await platform.deployRevision(spec(1));
    fake.failRevision('rec-shop-r2', 'container exited with code 1');
    await rejection(platform.deployRevision(spec(2)));

    const deployed = await platform.deployRevision(spec(3));

    assert.equal(deployed.tagUrl, tagUrl('run-3'));
    assert.deepEqual(updates()[1]?.service?.traffic, [
      { type: REVISION, revision: 'rec-shop-r1', percent: 100, tag: 'run-1' },
      { type: REVISION, revision: 'rec-shop-r3', percent: 0, tag: 'run-3' },
    ]);
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
