import assert from 'node:assert/strict';
import { revisionNameFor, serviceNameFor, tagFor } from '../../../shared/domain/serving-names.js';
import { MAX_ID_CHARS } from '../../../events/fields.js';
import { sampleIdentity } from '../../fixtures/runs.js';

const CLOUD_RUN_SERVICE = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

describe('serving names', () => {
  it('keeps a valid endpoint id readable: {prefix}{endpoint}', () => {
    assert.equal(serviceNameFor('recs-home', 'rec-'), 'rec-recs-home');
  });

  it('sanitises and bounds service names, keeping distinct endpoints distinct', () => {
    const names = ['Recs_Home', 'recs-home', 'recs.home', 'x'.repeat(80), `${'x'.repeat(80)}y`].map(
      (id) => serviceNameFor(id, 'rec-'),
    );
    for (const name of names) {
      assert.match(name, CLOUD_RUN_SERVICE);
      assert.ok(name.length < 50, name);
    }
    assert.equal(new Set(names).size, names.length, names.join(' '));
  });

  it('starts with a letter even when the prefix is empty and the id starts with a digit', () => {
    assert.match(serviceNameFor('42-endpoint', ''), /^[a-z]/);
  });

  it('derives the revision and tag from the run only (a retry finds them again)', () => {
    const run = sampleIdentity({ runNumber: 12 });
    const service = serviceNameFor(run.modelEndpointId, 'rec-');
    const revision = revisionNameFor(service, run);
    assert.equal(revision, revisionNameFor(service, { ...run }));
    assert.match(revision, /^rec-recs-home-r12-[0-9a-f]{8}$/);
    assert.match(tagFor(run), /^run-[0-9a-f]{8}$/);
    assert.notEqual(revision, revisionNameFor(service, { ...run, trainingRunId: 'train-002' }));
    assert.notEqual(tagFor(run), tagFor({ ...run, trainingRunId: 'train-002' }));
  });

  it('bounds revision names to 63 characters, beginning with the whole `{service}-`', () => {
    // Knative refuses a revision name without its service's prefix
    // (test/support/fakes/cloud-run-fake-service-rules.ts cites the rule).
    const service = serviceNameFor('e'.repeat(80), 'rec-');
    const revision = revisionNameFor(
      service,
      sampleIdentity({ runNumber: Number.MAX_SAFE_INTEGER }),
    );
    assert.ok(revision.length <= 63, revision);
    assert.match(revision, /^[a-z][a-z0-9-]*[a-z0-9]$/);
    assert.ok(revision.startsWith(`${service}-`), `${revision} does not begin with ${service}-`);
  });

  it('leaves every tag and service within Cloud Run’s 46 characters together, for any endpoint id', () => {
    // The longest endpoint id the events allow (events/fields.ts), the longest
    // prefix the configuration allows (SERVICE_PREFIX, 20 characters) and the default one.
    const ids = ['e'.repeat(40), 'E'.repeat(MAX_ID_CHARS), `9${'a.b_c:'.repeat(18)}`];
    for (const prefix of ['rec-', 'p'.repeat(20), '']) {
      for (const modelEndpointId of ids) {
        const service = serviceNameFor(modelEndpointId, prefix);
        const tag = tagFor({ modelEndpointId, trainingRunId: 't'.repeat(MAX_ID_CHARS) });
        assert.ok(service.length + tag.length <= 46, `${tag} + ${service}`);
        assert.match(service, CLOUD_RUN_SERVICE);
        assert.ok(service.startsWith(prefix.slice(0, 20)), service);
      }
    }
    const long = ids.map((id) => serviceNameFor(id, 'rec-'));
    assert.equal(new Set(long).size, long.length, long.join(' '));
  });

  it('keeps the names of endpoints that fit Cloud Run already (existing deployments do not move)', () => {
    // Names derived before the 46-character rule, for ids whose tag and service fit.
    const before = [
      ['recs-home', 'rec-recs-home', 'rec-recs-home-r7-2bcf6561', 'run-2bcf6561'],
      ['Recs_Home', 'rec-recs-home-6affd89e', 'rec-recs-home-6affd89e-r7-938409d3', 'run-938409d3'],
      ['shop.v2', 'rec-shop-v2-c923e4c4', 'rec-shop-v2-c923e4c4-r7-c61a86e6', 'run-c61a86e6'],
      [
        'a'.repeat(30),
        `rec-${'a'.repeat(30)}`,
        `rec-${'a'.repeat(30)}-r7-69ee00b8`,
        'run-69ee00b8',
      ],
    ] as const;
    for (const [modelEndpointId, service, revision, tag] of before) {
      const run = { modelEndpointId, trainingRunId: 'train-001', runNumber: 7 };
      assert.equal(serviceNameFor(modelEndpointId, 'rec-'), service);
      assert.equal(revisionNameFor(service, run), revision);
      assert.equal(tagFor(run), tag);
    }
  });
});
