/**
 * deploy/setup.sh run by bash against a recording stand-in for gcloud
 * (gcloud-stub.cjs): the service accounts it creates, one per identity, and
 * the roles each gets, exactly those of the permissions table.
 */
import assert from 'node:assert/strict';
import { FUNCTION_DEPLOYMENTS } from '../../../deploy/functions.js';
import {
  BUILD_SERVICE_ACCOUNT,
  TRIGGER_SERVICE_ACCOUNT,
} from '../../../deploy/function-deployment.js';
import {
  DASHBOARD_SERVICE,
  INDEX_BUILD_JOB,
  SERVING_SERVICE_ACCOUNT,
} from '../../../deploy/cloudbuild-plan.js';
import { BUCKET, PROJECT, created, flagOf, grantsOf, type SetupRun } from './setup-bench.js';
import { setupScriptRuns, topics } from './setup-script-fixture.js';

describe('deploy/setup.sh (against a recording gcloud)', function () {
  this.timeout(60_000);
  let first: SetupRun;
  const runs = setupScriptRuns();
  before(function () {
    ({ first } = runs());
  });

  it('creates one service account per function, job, serving, dashboard, trigger and build identity', function () {
    assert.deepEqual(
      created(first, 'iam', 'service-accounts').sort(),
      [
        ...FUNCTION_DEPLOYMENTS.map((d) => d.serviceAccount),
        INDEX_BUILD_JOB.serviceAccount,
        SERVING_SERVICE_ACCOUNT,
        DASHBOARD_SERVICE.serviceAccount,
        TRIGGER_SERVICE_ACCOUNT,
        BUILD_SERVICE_ACCOUNT,
      ].sort(),
    );
  });

  it('grants each identity exactly the roles of the permissions table', function () {
    const sa = (id: string) => `serviceAccount:${id}@${PROJECT}.iam.gserviceaccount.com`;
    const expected: Record<string, string[]> = {
      'recdeploy-register': [
        'project roles/aiplatform.user',
        'project roles/datastore.user',
        'bucket roles/storage.objectViewer',
        `topic:${topics.modelRegistered} roles/pubsub.publisher`,
        `topic:${topics.deploymentFinished} roles/pubsub.publisher`,
      ],
      'recdeploy-deploy': [
        'project roles/run.developer',
        'project roles/datastore.user',
        'bucket roles/storage.objectAdmin',
        `sa:${SERVING_SERVICE_ACCOUNT} roles/iam.serviceAccountUser`,
        `sa:${INDEX_BUILD_JOB.serviceAccount} roles/iam.serviceAccountUser`,
        `topic:${topics.modelDeployed} roles/pubsub.publisher`,
        `topic:${topics.deploymentFinished} roles/pubsub.publisher`,
      ],
      'recdeploy-verify': [
        'project roles/run.developer',
        'project roles/run.invoker',
        'project roles/datastore.user',
        'bucket roles/storage.objectViewer',
        `sa:${SERVING_SERVICE_ACCOUNT} roles/iam.serviceAccountUser`,
        `topic:${topics.deploymentFinished} roles/pubsub.publisher`,
      ],
      // Reads what serves and index-build executions; moves canary traffic (a service
      // update: run.developer and act-as on the serving identity); reads live-traffic
      // metrics; no bucket; publishes every hand-off it may re-drive, and outcomes.
      'recdeploy-reconcile': [
        'project roles/datastore.user',
        'project roles/run.developer',
        'project roles/monitoring.viewer',
        `sa:${SERVING_SERVICE_ACCOUNT} roles/iam.serviceAccountUser`,
        `topic:${topics.trainingCompleted} roles/pubsub.publisher`,
        `topic:${topics.modelRegistered} roles/pubsub.publisher`,
        `topic:${topics.modelDeployed} roles/pubsub.publisher`,
        `topic:${topics.deploymentFinished} roles/pubsub.publisher`,
        `topic:${topics.freshnessAlert} roles/pubsub.publisher`,
      ],
      [INDEX_BUILD_JOB.serviceAccount]: [
        'bucket roles/storage.objectAdmin',
        `topic:${topics.modelRegistered} roles/pubsub.publisher`,
      ],
      // Reads its model; writes its replay sample, under replay/ only (the condition is checked below).
      [SERVING_SERVICE_ACCOUNT]: [
        'bucket roles/storage.objectViewer',
        'bucket roles/storage.objectUser',
      ],
      [DASHBOARD_SERVICE.serviceAccount]: ['project roles/datastore.viewer'],
      [TRIGGER_SERVICE_ACCOUNT]: [],
      [BUILD_SERVICE_ACCOUNT]: [
        'project roles/cloudbuild.builds.builder',
        'project roles/cloudfunctions.developer',
        'project roles/run.admin',
        'project roles/eventarc.viewer',
        'project roles/pubsub.editor',
        ...[
          ...FUNCTION_DEPLOYMENTS.map((d) => d.serviceAccount),
          INDEX_BUILD_JOB.serviceAccount,
          DASHBOARD_SERVICE.serviceAccount,
          TRIGGER_SERVICE_ACCOUNT,
          BUILD_SERVICE_ACCOUNT,
        ].map((id) => `sa:${id} roles/iam.serviceAccountUser`),
      ],
    };
    for (const [id, roles] of Object.entries(expected)) {
      assert.deepEqual(grantsOf(first, sa(id)).sort(), [...roles].sort(), id);
    }
    // The descriptors run as accounts this table covers.
    for (const d of FUNCTION_DEPLOYMENTS) assert.ok(d.serviceAccount in expected, d.name);
    // The serving identity may write under replay/ only, never the bundles beside it.
    const write = first.calls.find(
      (c) =>
        c.includes(`--member=${sa(SERVING_SERVICE_ACCOUNT)}`) &&
        c.includes('--role=roles/storage.objectUser'),
    );
    assert.equal(
      flagOf(write ?? [], 'condition'),
      `expression=resource.name.startsWith("projects/_/buckets/${BUCKET}/objects/replay/"),title=replay-samples,description=ann-serving writes its sample of live queries here`,
    );
  });
});
