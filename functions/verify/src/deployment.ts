/**
 * How the verify function is deployed, kept beside its handler. The Cloud
 * Build config deploy/cloudbuild/function-verify.yaml is generated from it
 * (`scripts/generate-cloudbuild.ts`), and a test fails when they differ.
 */
import { GCP_FUNCTION_ENV, loadRuntimeConfig, type FunctionDeployment } from '@recdeploy/shared';

const defaults = loadRuntimeConfig({});

export const deployment: FunctionDeployment = {
  name: 'recdeploy-verify',
  workspace: 'verify',
  entryPoint: 'verify',
  triggerTopic: defaults.topics.modelDeployed,
  region: defaults.region,
  // The recall check encodes queries with the bundle's TF.js query model; 2Gi brings 1 vCPU.
  memory: '2Gi',
  // The event-function limit: all checks within VERIFY_CHECKS_TIMEOUT_MS (300 s)
  // plus the traffic move's Cloud Run wait (120 s) fit with a 20% margin
  // (deploy/delivery-budget.ts). Leases are renewed while it runs, so the
  // timeout need not match one.
  timeoutSeconds: 540,
  retry: true,
  minInstances: 0,
  maxInstances: 5,
  serviceAccount: 'recdeploy-verify',
  maxDeliveryAttempts: 15,
  env: {
    ...GCP_FUNCTION_ENV,
  },
};
