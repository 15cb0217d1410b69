/**
 * The deploy settings of a recdeploy function: each function keeps them in a
 * typed descriptor beside its handler (`functions/<name>/src/deployment.ts`),
 * and deploy/ generates the Cloud Build configs from them
 * (scripts/generate-cloudbuild.ts), so code and deployment cannot drift.
 */

/** Placeholders a descriptor may use in env values, filled in at deploy time. */
export const DEPLOY_PLACEHOLDERS = {
  /** The Google Cloud project id (Cloud Build: `$PROJECT_ID`). */
  project: '{project}',
  /** The region the function is deployed to (Cloud Build: `${_REGION}`). */
  region: '{region}',
} as const;

/** The environment every function runs with on Google Cloud; a descriptor adds its own. */
export const GCP_FUNCTION_ENV = {
  RECDEPLOY_BACKEND: 'gcp',
  GOOGLE_CLOUD_PROJECT: DEPLOY_PLACEHOLDERS.project,
  REGION: DEPLOY_PLACEHOLDERS.region,
  LOG_LEVEL: 'info',
} as const;

export interface FunctionDeployment {
  /** The Cloud Functions (2nd gen) name; also the name of its Cloud Run service. */
  readonly name: string;
  /** The workspace folder below functions/, e.g. `register`. */
  readonly workspace: string;
  /** The functions-framework target registered by the handler (`--entry-point`). */
  readonly entryPoint: string;
  /** The Pub/Sub topic whose Eventarc trigger delivers to the function. */
  readonly triggerTopic: string;
  /** Default region (a Cloud Build substitution can override it). */
  readonly region: string;
  /** Memory limit, e.g. `1Gi`; Cloud Functions gives CPU by memory tier. */
  readonly memory: string;
  /** At most 540 s, the limit of event-driven functions; at most the step's lease. */
  readonly timeoutSeconds: number;
  /** Redeliver on failure: without it a failed event is dropped. */
  readonly retry: true;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Service account id (before `@`) the function runs as. */
  readonly serviceAccount: string;
  /**
   * Deliveries before a message goes to `{triggerTopic}-dead-letter` (5–100).
   * With the retry backoff deploy/scripts/configure-function-trigger.sh puts
   * on the trigger's subscription (10 s → 600 s) they must span more than
   * twice the longest lease (DESIGN.md §4; test/unit/deploy/retry-horizon.test.ts).
   */
  readonly maxDeliveryAttempts: number;
  /** Environment variables; values may use the {@link DEPLOY_PLACEHOLDERS}. */
  readonly env: Readonly<Record<string, string>>;
}
