/**
 * deploy/setup.sh run by bash against a recording stand-in for gcloud
 * (gcloud-stub.cjs): a second run creates nothing and still applies every
 * binding and setting; without its inputs it refuses to start, naming each.
 */
import assert from 'node:assert/strict';
import { PROJECT, SetupBench, type SetupRun } from './setup-bench.js';
import { setupScriptRuns } from './setup-script-fixture.js';

describe('deploy/setup.sh (against a recording gcloud)', function () {
  this.timeout(60_000);
  let bench: SetupBench | undefined;
  let first: SetupRun;
  let second: SetupRun;
  const runs = setupScriptRuns();
  before(function () {
    ({ bench, first, second } = runs());
  });

  it('creates nothing on a second run and still applies every binding and setting', function () {
    assert.equal(second.code, 0, second.stderr);
    const creates = second.calls.filter((c) => c.includes('create'));
    // Index creation is attempted and its ALREADY_EXISTS tolerated.
    assert.ok(creates.every((c) => c.slice(0, 3).join(' ') === 'firestore indexes composite'));
    const bindings = (run: SetupRun) =>
      run.calls.filter((c) => c.includes('add-iam-policy-binding'));
    // DEPLOY_ALLOW_PUBLIC=true adds exactly two: verify and reconcile may make the
    // services they promote public.
    const isPublicGrant = (c: readonly string[]) =>
      c.includes(`--role=projects/${PROJECT}/roles/recdeployServingIamAdmin`);
    assert.equal(bindings(second).filter(isPublicGrant).length, 2);
    assert.deepEqual(
      bindings(second).filter((c) => !isPublicGrant(c)),
      bindings(first),
    );
    assert.ok(second.calls.some((c) => c.slice(0, 3).join(' ') === 'logging sinks update'));
    // The scheduler job is found and its schedule, topic and body applied again.
    const update = second.calls.find(
      (c) => c.slice(0, 4).join(' ') === 'scheduler jobs update pubsub',
    );
    assert.equal(update?.[4], 'recdeploy-reconcile-tick');
    const firstCreate = first.calls.find(
      (c) => c.slice(0, 4).join(' ') === 'scheduler jobs create pubsub',
    );
    assert.deepEqual(update?.slice(5), firstCreate?.slice(5), 'the same settings');
  });

  it('refuses to start without its inputs, naming each', async function () {
    const run = await bench!.run({
      PROJECT: 'Bad_Project',
      DEPLOY_ALLOW_PUBLIC: 'yes',
      SERVICE_PREFIX: 'recdeploy-',
    });
    assert.equal(run.code, 2);
    assert.equal(run.calls.length, 0, 'no gcloud call');
    assert.match(run.stderr, /PROJECT "Bad_Project" is not a project id/);
    assert.match(run.stderr, /DEPLOY_ALLOW_PUBLIC must be true or false \(got "yes"\)/);
    // The functions' own services must stay outside the serving services' prefix.
    assert.match(run.stderr, /SERVICE_PREFIX "recdeploy-" would cover recdeploy's own services/);
    assert.match(run.stderr, /REGION is required/);
    assert.match(run.stderr, /MODEL_BUCKET is required/);
  });
});
