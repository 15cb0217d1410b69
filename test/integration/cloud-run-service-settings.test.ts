import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ServicesClient, type protos } from '@google-cloud/run';
import { MAX_ID_CHARS } from '../../events/fields.js';
import { revisionNameFor, serviceNameFor, tagFor } from '../../shared/domain/serving-names.js';
import type { CloudRunPlatform } from '../../shared/adapters/gcp/cloud-run-platform.js';
import type { RevisionSpec } from '../../shared/ports/serving-platform.port.js';
import type { CloudRunFake, CreateServiceRequestWire } from '../support/fakes/cloud-run-fake.js';
import { canonicalJson } from '../support/fakes/cloud-run-fake-wire.js';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';
import { PlatformFixture, SERVICE_NAME, spec } from './support/cloud-run-platform-fixture.js';

const SET_IAM_POLICY = 'run.services.setIamPolicy';

// What a deploy may and may not change on the service: names Cloud Run
// accepts, when a service turns public, where minimum instances are set, and
// what an operator set by hand. docs/cloud-run-service.md explains each.
describe('CloudRunPlatform and the Cloud Run service it manages', () => {
  let fixture: PlatformFixture;
  let fake: CloudRunFake;
  let platform: CloudRunPlatform;

  beforeEach(async () => {
    fixture = await PlatformFixture.start();
    ({ fake, platform } = fixture);
  });

  afterEach(async () => {
    await fixture.stop();
  });

  for (const length of [40, MAX_ID_CHARS]) {
    it(`deploys and promotes runs of an endpoint id of ${length} characters under the default prefix`, async () => {
      const modelEndpointId = `e${'x'.repeat(length - 1)}`;
      const service = serviceNameFor(modelEndpointId, 'rec-');
      const named = (runNumber: number) => {
        const run = { modelEndpointId, trainingRunId: `train-${runNumber}`, runNumber };
        return spec(runNumber, {
          service,
          revision: revisionNameFor(service, run),
          tag: tagFor(run),
        });
      };

      await platform.deployRevision(named(1));
      const second = await platform.deployRevision(named(2));
      const traffic = await platform.promote(service, second.revision);

      assert.equal(traffic.liveRevision, named(2).revision);
      assert.ok(second.tagUrl.startsWith(`https://${named(2).tag}---${service}-`), second.tagUrl);
    });
  }

  it('creates a public run’s service private, and turns the invoker check off only at promote', async () => {
    // The deploy identity lacks run.services.setIamPolicy; the verify function has it.
    fake.denyPermission(SET_IAM_POLICY);

    await platform.deployRevision(spec(1, { public: true }));

    const created = fake.requestsOf<CreateServiceRequestWire>('CreateService')[0]?.service;
    assert.equal(created?.invokerIamDisabled ?? false, false);
    assert.equal(fake.service('rec-shop')?.annotations?.['recdeploy.dev/public'], 'true');
    fake.allowPermission(SET_IAM_POLICY);

    await platform.promote('rec-shop', 'rec-shop-r1');

    assert.equal(fake.service('rec-shop')?.invokerIamDisabled, true);
    assert.deepEqual(fake.requestsOf('SetIamPolicy'), [], 'never through an IAM binding');
  });

  it('never makes a service public for a run that failed verification', async () => {
    await platform.deployRevision(spec(1));
    await platform.promote('rec-shop', 'rec-shop-r1');
    fake.denyPermission(SET_IAM_POLICY);

    await platform.deployRevision(spec(2, { public: true }));
    await platform.discardRevision('rec-shop', 'rec-shop-r2');
    fake.allowPermission(SET_IAM_POLICY);
    await platform.rollback('rec-shop', 'rec-shop-r1');

    assert.equal(fake.service('rec-shop')?.invokerIamDisabled ?? false, false);
  });

  it('turns a public service private again when a private run is promoted', async () => {
    await platform.deployRevision(spec(1, { public: true }));
    await platform.promote('rec-shop', 'rec-shop-r1');
    await platform.deployRevision(spec(2, { public: false }));

    assert.equal(fake.service('rec-shop')?.invokerIamDisabled, true, 'deploy leaves it as it is');
    await platform.promote('rec-shop', 'rec-shop-r2');

    assert.equal(fake.service('rec-shop')?.invokerIamDisabled, false);
  });

  it('leaves the invoker setting as it is for a run that asked nothing, even one an operator changed', async () => {
    await platform.deployRevision(spec(1, { public: true }));
    await platform.promote('rec-shop', 'rec-shop-r1');
    const silent: { -readonly [K in keyof RevisionSpec]: RevisionSpec[K] } = { ...spec(2) };
    delete silent.public;
    await platform.deployRevision(silent);
    assert.equal(fake.service('rec-shop')?.annotations?.['recdeploy.dev/public'], undefined);
    await platform.promote('rec-shop', 'rec-shop-r2');
    assert.equal(fake.service('rec-shop')?.invokerIamDisabled, true, 'still public');
  });

  it('sets minimum instances on the service, so kept tagged revisions keep no warm instances', async () => {
    const warm = (n: number) =>
      spec(n, { resources: { ...spec(n).resources, minInstances: 2, maxInstances: 10 } });

    await platform.deployRevision(warm(1));
    await platform.deployRevision(warm(2));
    await platform.promote('rec-shop', 'rec-shop-r2');

    const kept = await platform.describe('rec-shop');
    assert.ok(kept?.targets.some((t) => t.revision === 'rec-shop-r1' && t.tag === 'run-1'));
    for (const revision of ['rec-shop-r1', 'rec-shop-r2']) {
      const scaling = fake.revisionTemplate(revision)?.scaling as
        { minInstanceCount?: number; maxInstanceCount?: number } | undefined;
      assert.equal(scaling?.minInstanceCount ?? 0, 0, `${revision} template`);
      assert.equal(scaling?.maxInstanceCount, 10);
    }
    assert.equal(canonicalJson(fake.service('rec-shop')?.scaling), '{"minInstanceCount":2}');
  });

  it('keeps what an operator set on the service: VPC access, a secret env var, ingress, labels', async () => {
    await platform.deployRevision(spec(1));
    await operatorEdits(fake, (service) => {
      const template = service.template ?? {};
      service.ingress = 'INGRESS_TRAFFIC_INTERNAL_ONLY';
      service.labels = { ...service.labels, team: 'search' };
      template.vpcAccess = {
        connector: 'projects/test-project/locations/us-central1/connectors/c',
      };
      template.containers?.[0]?.env?.push({
        name: 'API_KEY',
        valueSource: { secretKeyRef: { secret: 'api-key', version: 'latest' } },
      });
      // gcloud names the operator's revision itself.
      template.revision = '';
    });

    await platform.deployRevision(spec(2));

    const service = fake.service('rec-shop');
    assert.equal(service?.ingress, 'INGRESS_TRAFFIC_INTERNAL_ONLY');
    assert.equal(service?.labels?.team, 'search');
    assert.equal(service?.labels?.managed_by, 'recdeploy');
    const template = fake.revisionTemplate('rec-shop-r2');
    // Compared as proto3 values: a template read back carries defaults (egress unspecified).
    assert.equal(
      canonicalJson(template?.vpcAccess),
      '{"connector":"projects/test-project/locations/us-central1/connectors/c"}',
    );
    const env = template?.containers?.[0]?.env ?? [];
    assert.deepEqual(
      env.find((e) => e.name === 'API_KEY'),
      { name: 'API_KEY', valueSource: { secretKeyRef: { secret: 'api-key', version: 'latest' } } },
    );
    assert.equal(env.find((e) => e.name === 'MODEL_PATH')?.value, 'gs://models/shop/2');
  });

  it('sends the same template again when a deploy is retried after its tag was dropped', async () => {
    await platform.deployRevision(spec(1));
    await platform.deployRevision(spec(2));
    await platform.discardRevision('rec-shop', 'rec-shop-r2');

    const again = await platform.deployRevision(spec(2));

    assert.equal(again.revision, 'rec-shop-r2');
    const [first, ...later] = fixture
      .updates()
      .filter((u) => u.service?.template?.revision === 'rec-shop-r2');
    assert.equal(
      canonicalJson(later.at(-1)?.service?.template),
      canonicalJson(first?.service?.template),
    );
    assert.equal(fake.requests.filter((r) => r.errorCode === grpc.status.ALREADY_EXISTS).length, 0);
  });
});

describe('Cloud Run fake: names the real service refuses', () => {
  let fixture: PlatformFixture;

  beforeEach(async () => {
    fixture = await PlatformFixture.start();
    await fixture.platform.deployRevision(spec(1));
  });

  afterEach(async () => {
    await fixture.stop();
  });

  const refusal = (edit: (service: ServiceMessage) => void) =>
    operatorEdits(fixture.fake, edit).then(
      () => assert.fail('expected a refusal'),
      (error: unknown) => error as { code?: number; message?: string },
    );

  it('refuses a revision name that does not begin with the service name', async () => {
    const error = await refusal((service) => {
      if (service.template) service.template.revision = 'shop-r2';
    });
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    assert.match(error.message ?? '', /"shop-r2" must have prefix "rec-shop-"/);
  });

  it('refuses a tag that makes more than 46 characters with the service name', async () => {
    const error = await refusal((service) => {
      const [live] = service.traffic ?? [];
      if (live) live.tag = 't'.repeat(39);
    });
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    assert.match(error.message ?? '', /cannot exceed 46 characters/);
    assert.equal(fixture.fake.service('rec-shop')?.traffic?.[0]?.tag, 'run-1');
  });
});

type ServiceMessage = protos.google.cloud.run.v2.IService;

/** An operator's change by hand, as gcloud makes it: read, edit, update with the etag. */
async function operatorEdits(
  fake: CloudRunFake,
  edit: (service: ServiceMessage) => void,
): Promise<void> {
  const client = new ServicesClient(fakeClientOptions(fake.port));
  try {
    const [service] = await client.getService({ name: SERVICE_NAME });
    edit(service);
    const [operation] = await client.updateService({ service });
    await operation.promise();
  } finally {
    await client.close();
  }
}
