/**
 * How the register function is deployed, kept beside its handler. The Cloud
 * Build config deploy/cloudbuild/function-register.yaml is generated from it
 * (`scripts/generate-cloudbuild.ts`), and a test fails when they differ.
 */
import { GCP_FUNCTION_ENV, loadRuntimeConfig, type FunctionDeployment } from '@recdeploy/shared';

const defaults = loadRuntimeConfig({});

export const deployment: FunctionDeployment = {
  name: 'recdeploy-register',
  workspace: 'register',
  entryPoint: 'register',
  triggerTopic: defaults.topics.trainingCompleted,
  region: defaults.region,
  // The Google SDKs alone take a few hundred MB; 1Gi also brings 0.58 vCPU.
  memory: '1Gi',
  // Equal to the register step's lease (5 min): an attempt cut off by the
  // timeout cannot overlap the redelivery that takes the step over.
  timeoutSeconds: 300,
  retry: true,
  // Scale to zero: training runs end a few times a day.
  minInstances: 0,
  maxInstances: 10,
  serviceAccount: 'recdeploy-register',
  // With Pub/Sub's 10–600 s backoff, 15 deliveries span at least 5430 s (1.5 h),
  // far more than twice the longest lease (test/unit/deploy/retry-horizon.test.ts).
  maxDeliveryAttempts: 15,
  env: {
    ...GCP_FUNCTION_ENV,
  },
};
