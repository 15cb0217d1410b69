import assert from 'node:assert/strict';
import { revisionNameFor, serviceNameFor, tagFor } from '../../../shared/domain/serving-names.js';
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

  it('bounds revision names to 63 characters, prefixed by the service', () => {
    const service = serviceNameFor('e'.repeat(80), 'rec-');
    const revision = revisionNameFor(service, sampleIdentity({ runNumber: 123456789 }));
    assert.ok(revision.length <= 63, revision);
    assert.match(revision, /^[a-z][a-z0-9-]*[a-z0-9]$/);
    assert.ok(revision.startsWith(service.slice(0, 20)));
  });
});
