/**
 * The deploy descriptors beside each handler (functions/<name>/src/deployment.ts):
 * valid settings, the topics and leases of the chain, an environment the
 * chain's configuration accepts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RuntimeEnvSchema, loadRuntimeConfig } from '@recdeploy/shared';
import { ChainEnvSchema, loadChainConfig } from '@recdeploy/shared/chain';
import { FUNCTION_DEPLOYMENTS } from '../../../deploy/functions.js';
import {
  EVENT_FUNCTION_MAX_TIMEOUT_S,
  gcloudDeployArgs,
  problemsOf,
  type FunctionDeployment,
} from '../../../deploy/function-deployment.js';
import { INDEX_BUILD_JOB, SERVING_SERVICE_ACCOUNT } from '../../../deploy/cloudbuild-plan.js';
import { envOfFlag } from './gcloud-env-flag.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const topics = loadRuntimeConfig({}).topics;
/** What each step consumes (docs/events.md); the reconciler, Cloud Scheduler's ticks. */
const CONSUMES: Record<string, string> = {
  register: topics.trainingCompleted,
  deploy: topics.modelRegistered,
  verify: topics.modelDeployed,
  reconcile: topics.reconcileTick,
};

/** The descriptor's env with its placeholders filled in, as a deployed function sees it. */
function deployedEnv(d: FunctionDeployment): Record<string, string> {
  return Object.fromEntries(
    Object.entries(d.env).map(([key, value]) => [
      key,
      value.replaceAll('{project}', 'recs-project').replaceAll('{region}', 'europe-west1'),
    ]),
  );
}

describe('function deploy descriptors (functions/*/src/deployment.ts)', function () {
  it('describe each function workspace once, in chain order, then the reconciler', function () {
    assert.deepEqual(
      FUNCTION_DEPLOYMENTS.map((d) => d.workspace),
      ['register', 'deploy', 'verify', 'reconcile'],
    );
    for (const d of FUNCTION_DEPLOYMENTS) {
      assert.ok(existsSync(`${repoRoot}functions/${d.workspace}/src/index.ts`), d.workspace);
    }
    assert.equal(new Set(FUNCTION_DEPLOYMENTS.map((d) => d.serviceAccount)).size, 4);
    assert.equal(new Set(FUNCTION_DEPLOYMENTS.map((d) => d.name)).size, 4);
  });

  for (const d of FUNCTION_DEPLOYMENTS) {
    describe(d.name, function () {
      it('is valid: timeout within the event-function limit, retries on, instances sane', function () {
        assert.deepEqual(problemsOf(d), []);
        assert.ok(d.timeoutSeconds <= EVENT_FUNCTION_MAX_TIMEOUT_S);
        assert.equal(d.retry, true);
      });

      it("is triggered by the topic its step consumes (the runtime configuration's default)", function () {
        assert.equal(d.triggerTopic, CONSUMES[d.workspace]);
        assert.equal(d.region, loadRuntimeConfig({}).region);
      });

      it('registers the entry point its handler exports', async function () {
        const handler = (await import(`../../../functions/${d.workspace}/src/index.js`)) as {
          ENTRY_POINT: string;
        };
        assert.equal(d.entryPoint, handler.ENTRY_POINT);
      });

      it('sets only variables the configuration knows, and they load as a gcp chain config', function () {
        const known = new Set([
          ...Object.keys(RuntimeEnvSchema.properties),
          ...Object.keys(ChainEnvSchema.properties),
        ]);
        for (const key of Object.keys(d.env)) assert.ok(known.has(key), `${key} is not read`);
        const config = loadChainConfig(deployedEnv(d));
        assert.equal(config.runtime.backend, 'gcp');
        assert.equal(config.runtime.backend === 'gcp' && config.runtime.projectId, 'recs-project');
        assert.equal(config.runtime.region, 'europe-west1');
        assert.equal(config.indexBuild.job, INDEX_BUILD_JOB.name);
      });
    });
  }

  it('deploy: revisions run as the serving account, and the build estimate uses the cores of its memory tier', function () {
    const deploy = FUNCTION_DEPLOYMENTS.find((d) => d.workspace === 'deploy');
    assert.ok(deploy);
    const config = loadChainConfig(deployedEnv(deploy));
    assert.equal(
      config.servingServiceAccount,
      `${SERVING_SERVICE_ACCOUNT}@recs-project.iam.gserviceaccount.com`,
    );
    // Cloud Functions: 4Gi → 2 vCPU.
    assert.equal(deploy.memory, '4Gi');
    assert.equal(config.indexBuild.cores, 2);
  });

  it('deploy: states the deployment policy in its env, private services only, the chain defaults', function () {
    const deploy = FUNCTION_DEPLOYMENTS.find((d) => d.workspace === 'deploy');
    assert.ok(deploy);
    const policyVars = Object.keys(ChainEnvSchema.properties).filter(
      (key) => key.startsWith('DEPLOY_') && key !== 'DEPLOY_ENDPOINTS',
    );
    for (const key of policyVars) assert.ok(key in deploy.env, `${key} is not set`);
    assert.equal(deploy.env.DEPLOY_ALLOW_PUBLIC, 'false');
    const stated = loadChainConfig(deployedEnv(deploy)).deploymentPolicy;
    assert.deepEqual(stated.defaultLimits, loadChainConfig({}).deploymentPolicy.defaultLimits);
    assert.deepEqual(stated.endpointLimits, {});
  });

  it('reconcile: one small instance runs one pass per tick; a failed tick is retried the fewest times Pub/Sub allows', function () {
    const reconcile = FUNCTION_DEPLOYMENTS.find((d) => d.workspace === 'reconcile');
    assert.ok(reconcile);
    assert.equal(reconcile.name, 'recdeploy-reconcile');
    assert.equal(reconcile.serviceAccount, 'recdeploy-reconcile');
    assert.equal(reconcile.maxInstances, 1, 'one pass at a time');
    assert.equal(reconcile.minInstances, 0);
    assert.equal(reconcile.memory, '512Mi');
    // 5 is the least problemsOf (and Pub/Sub's dead-letter policy) accepts.
    assert.equal(reconcile.maxDeliveryAttempts, 5);
    assert.ok(problemsOf({ ...reconcile, maxDeliveryAttempts: 4 }).length > 0);
  });

  it('problemsOf names the field and the value', function () {
    const [first] = FUNCTION_DEPLOYMENTS;
    assert.ok(first);
    assert.deepEqual(
      problemsOf({
        ...first,
        timeoutSeconds: 600,
        memory: '1G',
        maxInstances: 0,
        env: { GOOD: 'a', BAD: 'x,y|@~#%', OTHER: '{zone}' },
      }),
      [
        `function ${first.name}: timeoutSeconds must be 1–540 (got 600)`,
        `function ${first.name}: memory must look like 512Mi or 2Gi (got "1G")`,
        `function ${first.name}: maxInstances must be an integer ≥ max(1, minInstances) (got 0)`,
        `function ${first.name}: env OTHER uses unknown placeholder(s) {zone}`,
        `function ${first.name}: env values hold commas and every other delimiter gcloud could split on (| @ ~ # %)`,
      ],
    );
  });

  it('passes JSON with commas (DEPLOY_ENDPOINTS) through --set-env-vars with an alternate delimiter', function () {
    const deploy = FUNCTION_DEPLOYMENTS.find((d) => d.workspace === 'deploy');
    assert.ok(deploy);
    const endpoints =
      '{"home": {"allow_public": true, "max_instances": 100}, "batch": {"cpu": "8"}}';
    const withJson = { ...deploy, env: { ...deploy.env, DEPLOY_ENDPOINTS: endpoints } };
    assert.deepEqual(problemsOf(withJson), []);
    const flag = gcloudDeployArgs(withJson, '/packs/deploy', {
      project: 'recs-project',
      region: 'europe-west1',
    }).find((arg) => arg.startsWith('--set-env-vars='));
    const value = flag?.slice('--set-env-vars='.length) ?? '';
    assert.ok(value.startsWith('^|^'), value);
    const env = envOfFlag(value);
    assert.equal(env.DEPLOY_ENDPOINTS, endpoints);
    const policy = loadChainConfig(env).deploymentPolicy;
    assert.equal(policy.endpointLimits.home?.allowPublic, true);
    assert.equal(policy.endpointLimits.home?.maxInstances, 100);
    assert.equal(policy.endpointLimits.batch?.cpu, '8');
    // Without a comma anywhere, the plain form stays.
    assert.ok(
      gcloudDeployArgs(deploy, '/p', { project: 'p', region: 'r' }).some((arg) =>
        /^--set-env-vars=DEPLOY_ALLOW_PUBLIC=false,/.test(arg),
      ),
    );
  });
});
