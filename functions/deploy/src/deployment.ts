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
  // The event-function limit, under the deploy step's 10 min lease: an inline
  // build (≤ 240 s) plus a Cloud Run rollout fit.
  timeoutSeconds: 540,
  retry: true,
  minInstances: 0,
  maxInstances: 5,
  serviceAccount: 'recdeploy-deploy',
  maxDeliveryAttempts: 15,
  env: {
    ...GCP_FUNCTION_ENV,
    INDEX_BUILD_CORES: String(CORES),
    SERVING_SERVICE_ACCOUNT: 'recdeploy-serving@{project}.iam.gserviceaccount.com',
  },
};
