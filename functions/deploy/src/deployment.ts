/**
 * How the deploy function is deployed, kept beside its handler. The Cloud
 * Build config deploy/cloudbuild/function-deploy.yaml is generated from it
 * (`scripts/generate-cloudbuild.ts`), and a test fails when they differ.
 */
import { loadRuntimeConfig } from '@recdeploy/shared';

/** Same shape as deploy/function-deployment.ts (a workspace cannot import above its root). */
export interface FunctionDeployment {
  readonly name: string;
  readonly workspace: string;
  readonly entryPoint: string;
  readonly triggerTopic: string;
  readonly region: string;
  readonly memory: string;
  readonly timeoutSeconds: number;
  readonly retry: true;
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly serviceAccount: string;
  readonly maxDeliveryAttempts: number;
  readonly env: Readonly<Record<string, string>>;
}

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
    RECDEPLOY_BACKEND: 'gcp',
    GOOGLE_CLOUD_PROJECT: '{project}',
    REGION: '{region}',
    LOG_LEVEL: 'info',
    INDEX_BUILD_CORES: String(CORES),
    SERVING_SERVICE_ACCOUNT: 'recdeploy-serving@{project}.iam.gserviceaccount.com',
  },
};
