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
  // Equal to the verify step's lease (5 min), like register.
  timeoutSeconds: 300,
  retry: true,
  minInstances: 0,
  maxInstances: 5,
  serviceAccount: 'recdeploy-verify',
  maxDeliveryAttempts: 15,
  env: {
    ...GCP_FUNCTION_ENV,
  },
};
