/**
 * How the deploy function is deployed, kept beside its handler. The Cloud
 * Build config deploy/cloudbuild/function-deploy.yaml is generated from it
 * (`scripts/generate-cloudbuild.ts`), and a test fails when they differ.
 */
import { GCP_FUNCTION_ENV, loadRuntimeConfig, type FunctionDeployment } from '@recdeploy/shared';

const defaults = loadRuntimeConfig({});

/** Cores the 4Gi tier gives a function; the inline index-build estimate uses them. */
const CORES = 2;

export const deployment: FunctionDeployment = {
  name: 'recdeploy-deploy',
  workspace: 'deploy',
  entryPoint: 'deploy',
  triggerTopic: defaults.topics.modelRegistered,
  region: defaults.region,
  // Index builds up to INDEX_BUILD_INLINE_MAX_S run inside the function (hnswlib + TF.js).
  memory: '4Gi',
  // The event-function limit: an inline build (≤ INDEX_BUILD_INLINE_MAX_S below)
  // plus the Cloud Run rollout wait (300 s) fit with a 20% margin
  // (deploy/delivery-budget.ts; test/unit/deploy/delivery-budget.test.ts).
  timeoutSeconds: 540,
  retry: true,
  minInstances: 0,
  maxInstances: 5,
  serviceAccount: 'recdeploy-deploy',
  maxDeliveryAttempts: 15,
  env: {
    ...GCP_FUNCTION_ENV,
    INDEX_BUILD_CORES: String(CORES),
    // Not the chain default (240 s): 240 s of build plus the 300 s rollout wait
    // would use the whole 540 s. Bigger builds run as the index-build job.
    INDEX_BUILD_INLINE_MAX_S: '120',
    SERVING_SERVICE_ACCOUNT: 'recdeploy-serving@{project}.iam.gserviceaccount.com',
    // The deployment policy: what a training-completed message may ask for in
    // deployment_config (docs/deploy.md "The deployment policy"). A run beyond
    // it fails with DEPLOY.OUTSIDE_POLICY. Public services also need
    // `DEPLOY_ALLOW_PUBLIC=true deploy/setup.sh` (roles/run.admin).
    DEPLOY_ALLOW_PUBLIC: 'false',
    DEPLOY_MAX_INSTANCES_LIMIT: '20',
    DEPLOY_MIN_INSTANCES_LIMIT: '3',
    DEPLOY_MEMORY_LIMIT: '8Gi',
    DEPLOY_CPU_LIMIT: '4',
    DEPLOY_TIMEOUT_S_LIMIT: '300',
    DEPLOY_CONCURRENCY_LIMIT: '250',
  },
};
