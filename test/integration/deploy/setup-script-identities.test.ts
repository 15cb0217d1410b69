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
import {
  BUCKET,
  PROJECT,
  REGION,
  created,
  flagOf,
  grantsOf,
  type SetupRun,
} from './setup-bench.js';
import {
  SERVING_SERVICES,
  projectConditionsOf,
  setupScriptRuns,
  topics,
} from './setup-script-fixture.js';

describe('deploy/setup.sh (against a recording gcloud)', function () {
  this.timeout(60_000);
  let first: SetupRun;
  let second: SetupRun;
  const runs = setupScriptRuns();
  before(function () {
    ({ first, second } = runs());
  });
  const sa = (id: string) => `serviceAccount:${id}@${PROJECT}.iam.gserviceaccount.com`;

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
    // GetModel + MergeVersionAliases: the live alias follows the version that serves.
    const registryAliasRole = `projects/${PROJECT}/roles/recdeployRegistryAliases`;
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
        `project ${registryAliasRole}`,
      ],
      // Reads what serves and index-build executions; moves canary traffic (a service
      // update: run.developer and act-as on the serving identity); reads live-traffic
      // metrics; no bucket; publishes every hand-off it may re-drive, and outcomes.
      'recdeploy-reconcile': [
        'project roles/datastore.user',
        'project roles/run.developer',
        'project roles/run.viewer',
        'project roles/monitoring.viewer',
        `project ${registryAliasRole}`,
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

  it("binds the chain identities' Cloud Run roles to the serving services only, never project-wide", function () {
    // A project-wide run.developer would let them change the functions themselves
    // (Cloud Functions 2nd gen are Cloud Run services).
    const location = `projects/${PROJECT}/locations/${REGION}`;
    const operations = `resource.name.startsWith("${location}/operations/")`;
    const services = `resource.name.startsWith("${SERVING_SERVICES}")`;
    const jobName = `${location}/jobs/${INDEX_BUILD_JOB.name}`;
    const job = `resource.name == "${jobName}" || resource.name.startsWith("${jobName}/")`;
    const expected: Record<string, Record<string, string[]>> = {
      // Creating a service is checked on its parent, the location.
      'recdeploy-deploy': {
        'roles/run.developer': [
          `${services} || resource.name == "${location}" || ${operations} || ${job}`,
        ],
      },
      'recdeploy-verify': {
        'roles/run.developer': [`${services} || ${operations}`],
        'roles/run.invoker': [services],
      },
      // Moves canary traffic; only reads index-build executions.
      'recdeploy-reconcile': {
        'roles/run.developer': [`${services} || ${operations}`],
        'roles/run.viewer': [job],
      },
    };
    for (const [id, roles] of Object.entries(expected)) {
      for (const role of [
        'roles/run.developer',
        'roles/run.invoker',
        'roles/run.admin',
        'roles/run.viewer',
      ]) {
        for (const run of [first, second]) {
          assert.deepEqual(
            projectConditionsOf(run, sa(id), role),
            roles[role] ?? [],
            `${id} ${role}`,
          );
        }
      }
    }
  });

  it('lets verify and reconcile make a serving service public only when DEPLOY_ALLOW_PUBLIC is true', function () {
    const publicRole = `projects/${PROJECT}/roles/recdeployServingIamAdmin`;
    const services = `resource.name.startsWith("${SERVING_SERVICES}")`;
    for (const id of ['recdeploy-verify', 'recdeploy-reconcile']) {
      assert.deepEqual(projectConditionsOf(first, sa(id), publicRole), [], id);
      assert.deepEqual(projectConditionsOf(second, sa(id), publicRole), [services], id);
    }
    // Promoting is what makes a service public (after verification), never deploying.
    for (const run of [first, second]) {
      assert.ok(!grantsOf(run, sa('recdeploy-deploy')).some((g) => /run\.admin|Iam/.test(g)));
    }
    assert.equal(
      flagOf(customRoleCreation(first, 'recdeployServingIamAdmin'), 'permissions'),
      'run.services.getIamPolicy,run.services.setIamPolicy',
    );
  });

  it('lets verify and reconcile move registry aliases and nothing else of Vertex AI', function () {
    assert.equal(
      flagOf(customRoleCreation(first, 'recdeployRegistryAliases'), 'permissions'),
      'aiplatform.models.get,aiplatform.models.update',
    );
  });

  it('gives the Pub/Sub service agent no project-wide token creator unless asked for an old project', function () {
    const agent = 'serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com';
    assert.ok(!grantsOf(first, agent).includes('project roles/iam.serviceAccountTokenCreator'));
  });
});

/** The `gcloud iam roles create ID …` call of a setup run (empty when there is none). */
function customRoleCreation(run: SetupRun, id: string): string[] {
  const call = run.calls.find((c) => c.slice(0, 4).join(' ') === `iam roles create ${id}`);
  return call ?? [];
}
