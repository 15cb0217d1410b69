/**
 * How the reconcile function is deployed, kept beside its handler. The Cloud
 * Build config deploy/cloudbuild/function-reconcile.yaml is generated from it
 * (`scripts/generate-cloudbuild.ts`), and a test fails when they differ.
 * Cloud Scheduler publishes a tick to its topic once a minute (deploy/setup.sh).
 */
import { GCP_FUNCTION_ENV, loadRuntimeConfig, type FunctionDeployment } from '@recdeploy/shared';

const defaults = loadRuntimeConfig({});

export const deployment: FunctionDeployment = {
  name: 'recdeploy-reconcile',
  workspace: 'reconcile',
  entryPoint: 'reconcile',
  triggerTopic: defaults.topics.reconcileTick,
  region: defaults.region,
  // A pass reads run documents and describes services: the Firestore, Pub/Sub
  // and Cloud Run clients, no TF.js or index builds. 512Mi brings 0.33 vCPU.
  memory: '512Mi',
  // A pass takes seconds; this bounds one stuck on a slow API call (a
  // Firestore transaction may take up to 270 s) while ticks keep coming.
  timeoutSeconds: 300,
  retry: true,
  minInstances: 0,
  // One pass at a time is enough: passes are idempotent and whatever one
  // leaves, the next tick (a minute later) picks up. Parallel passes would
  // only repeat the same reads and Cloud Run describes; a tick that finds the
  // instance busy is refused and redelivered, or dropped (below).
  maxInstances: 1,
  serviceAccount: 'recdeploy-reconcile',
  // The type requires retries on, and Pub/Sub's fewest attempts (5, about
  // 150 s with the 10 s → 600 s backoff) bound them: a failed tick is not
  // worth retrying, the next one comes within a minute, and redelivered
  // ticks would only pile up passes. The handler takes no lease, so the
  // retry-horizon invariant of the chain's steps does not apply
  // (test/unit/deploy/retry-horizon.test.ts).
  maxDeliveryAttempts: 5,
  env: {
    ...GCP_FUNCTION_ENV,
  },
};
