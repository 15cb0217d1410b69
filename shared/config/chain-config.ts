/**
 * The deployment chain's configuration (the register, deploy and verify
 * functions, and the local stack that runs them): the shared runtime
 * variables plus the chain's own. Read once at cold start; every problem is
 * reported at once.
 */
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { readEnv, type Env } from './env-reader.js';
import { loadRuntimeConfig, type RuntimeConfig } from './runtime-config.js';
import type { RolloutPolicy } from '../domain/rollout-plan.js';
import { RolloutEnvProperties, rolloutPolicyOf } from './rollout-policy-config.js';
import type { DeploymentPolicy } from '../domain/deployment-policy.js';
import { DeploymentPolicyEnvProperties, deploymentPolicyOf } from './deployment-policy-config.js';
import { ReplayEnvProperties, replayPolicyOf, type ReplayPolicy } from './replay-policy-config.js';
import {
  FreshnessEnvProperties,
  freshnessSettingsOf,
  type FreshnessSettings,
} from './freshness-policy-config.js';

/** What happens to runs whose model was not blessed by the Evaluator. */
export const BLESSING_POLICIES = [
  'register-all-deploy-blessed',
  'blessed-only',
  'deploy-all',
] as const;
export type BlessingPolicy = (typeof BLESSING_POLICIES)[number];

const Positive = (defaultValue: number, maximum: number, description: string) =>
  Type.Number({ default: defaultValue, exclusiveMinimum: 0, maximum, description });
const Count = (defaultValue: number, maximum: number, description: string) =>
  Type.Integer({ default: defaultValue, minimum: 1, maximum, description });

export const ChainEnvSchema = Type.Object({
  /**
   * register-all-deploy-blessed (default, as the seed platform): register every
   * run, deploy only blessed ones and record the others as skipped;
   * blessed-only: skip unblessed runs before registering; deploy-all: deploy regardless.
   */
  BLESSING_POLICY: Type.Union(
    BLESSING_POLICIES.map((p) => Type.Literal(p)),
    { default: 'register-all-deploy-blessed' },
  ),
  /** Serving services are named `{SERVICE_PREFIX}{model_endpoint_id}`. */
  SERVICE_PREFIX: Type.String({ default: 'rec-', pattern: '^[a-z][a-z0-9-]{0,19}$' }),
  /** MODEL_NAME of every serving container: the name in `/v1/models/{name}`. */
  MODEL_NAME: Type.String({ default: 'recommender', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }),
  /** Images of the two runtimes; default: the recdeploy Artifact Registry repository of the project. */
  TF_SERVING_IMAGE: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  ANN_SERVING_IMAGE: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  /** Service account the serving revisions run as (default: the project's default compute one). */
  SERVING_SERVICE_ACCOUNT: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  /** The Cloud Run job that builds indexes too big to build inside the deploy function. */
  INDEX_BUILD_JOB: Type.String({
    default: 'recdeploy-build-index',
    pattern: '^[a-z][a-z0-9-]{0,48}$',
  }),
  /** Builds estimated to take longer than this run as a job instead of inside the deploy function. */
  INDEX_BUILD_INLINE_MAX_S: Positive(240, 3600, 'seconds'),
  /** CPU cores the deploy function has (for the build-time estimate). */
  INDEX_BUILD_CORES: Count(2, 64, 'cores'),
  /** Verification thresholds (docs/architecture.md explains each). */
  VERIFY_READY_TIMEOUT_MS: Count(60_000, 600_000, 'ms'),
  VERIFY_LATENCY_SAMPLES: Count(50, 10_000, 'requests'),
  VERIFY_LATENCY_P50_MS: Positive(200, 60_000, 'ms'),
  VERIFY_LATENCY_P99_MS: Positive(1000, 60_000, 'ms'),
  VERIFY_RECALL_QUERIES: Count(100, 10_000, 'queries'),
  VERIFY_MIN_RECALL: Type.Number({ default: 0.9, minimum: 0, maximum: 1 }),
  /** All checks of one verification together (the readiness wait included). */
  VERIFY_CHECKS_TIMEOUT_MS: Count(300_000, 3_600_000, 'ms'),
  /**
   * How long a step's (and a service's) lease holds without a heartbeat. A
   * running attempt renews it every third of that, so an attempt that died
   * frees its step within this time; a hand-off is republished at most once
   * per two of these; the reconciler looks at stalled runs as often.
   */
  LEASE_TTL_S: Positive(30, 600, 'seconds'),
  /**
   * Local backend: directories file:// artifacts may come from (comma
   * separated). Default: RECDEPLOY_DATA_DIR. Anything outside is refused.
   */
  ARTIFACT_ROOTS: Type.Optional(Type.String({ minLength: 1 })),
  ...RolloutEnvProperties,
  ...DeploymentPolicyEnvProperties,
  ...ReplayEnvProperties,
  ...FreshnessEnvProperties,
});

type ChainVars = Static<typeof ChainEnvSchema>;

export interface VerificationSettings {
  readonly readyTimeoutMs: number;
  readonly latencySamples: number;
  readonly latencyP50BudgetMs: number;
  readonly latencyP99BudgetMs: number;
  readonly recallQueries: number;
  readonly minRecall: number;
  readonly checksTimeoutMs: number;
}

/** Derived from LEASE_TTL_S, so the three can never disagree. */
export interface LeaseSettings {
  /** A lease's lifetime without a heartbeat. */
  readonly ttlMs: number;
  /** How often a running attempt renews its leases: a third of the lifetime. */
  readonly heartbeatMs: number;
  /** At most one hand-off per step in this window (two lifetimes). */
  readonly handOffWindowMs: number;
}

/** The lease settings for a lifetime of `ttlMs`. */
export function leaseSettings(ttlMs: number): LeaseSettings {
  return { ttlMs, heartbeatMs: Math.max(100, Math.floor(ttlMs / 3)), handOffWindowMs: 2 * ttlMs };
}

export interface ChainConfig {
  readonly runtime: RuntimeConfig;
  readonly blessingPolicy: BlessingPolicy;
  readonly servicePrefix: string;
  readonly modelName: string;
  readonly images: { readonly 'tf-serving': string; readonly 'ann-serving': string };
  readonly servingServiceAccount?: string;
  readonly indexBuild: {
    readonly job: string;
    readonly inlineMaxSeconds: number;
    readonly cores: number;
  };
  readonly verification: VerificationSettings;
  readonly leases: LeaseSettings;
  /** Absolute directories file:// artifacts may come from (local backend). */
  readonly artifactRoots: readonly string[];
  /** How verified revisions take the traffic, per endpoint (rollout-policy-config.ts). */
  readonly rollout: RolloutPolicy;
  /** What a run may ask for in deployment_config, per endpoint (deployment-policy-config.ts). */
  readonly deploymentPolicy: DeploymentPolicy;
  /** Which endpoints' revisions sample live queries, and the replay gate (replay-policy-config.ts). */
  readonly replay: ReplayPolicy;
  /** How stale a live model may get, per endpoint (freshness-policy-config.ts). */
  readonly freshness: FreshnessSettings;
  /** Local stack: how often canaries are looked at. */
  readonly canaryTickMs: number;
}

/** Parses the chain's variables (and the shared ones); throws ConfigError listing every problem. */
export function loadChainConfig(env: Env = process.env): ChainConfig {
  const runtime = loadRuntimeConfig(env);
  const vars = readEnv(ChainEnvSchema, env, (v) => {
    const rolloutPolicy = rolloutPolicyOf(v);
    const deploymentPolicy = deploymentPolicyOf(v);
    const replayPolicy = replayPolicyOf(v);
    const freshness = freshnessSettingsOf(v);
    return [
      ...(Array.isArray(rolloutPolicy) ? rolloutPolicy : []),
      ...(Array.isArray(deploymentPolicy) ? deploymentPolicy : []),
      ...(Array.isArray(replayPolicy) ? replayPolicy : []),
      ...(Array.isArray(freshness) ? freshness : []),
      ...(v.VERIFY_READY_TIMEOUT_MS >= v.VERIFY_CHECKS_TIMEOUT_MS
        ? [
            `VERIFY_READY_TIMEOUT_MS (${v.VERIFY_READY_TIMEOUT_MS}) must be less than VERIFY_CHECKS_TIMEOUT_MS (${v.VERIFY_CHECKS_TIMEOUT_MS}), the budget of all checks, which includes the readiness wait`,
          ]
        : []),
    ];
  });
  const rollout = rolloutPolicyOf(vars);
  if (Array.isArray(rollout)) throw new Error('unreachable: the rollout policy was checked');
  const deploymentPolicy = deploymentPolicyOf(vars);
  if (Array.isArray(deploymentPolicy)) {
    throw new Error('unreachable: the deployment policy was checked');
  }
  const replay = replayPolicyOf(vars);
  if (Array.isArray(replay)) throw new Error('unreachable: the replay policy was checked');
  const freshness = freshnessSettingsOf(vars);
  if (Array.isArray(freshness)) throw new Error('unreachable: the freshness policy was checked');
  return Object.freeze({
    runtime,
    blessingPolicy: vars.BLESSING_POLICY,
    servicePrefix: vars.SERVICE_PREFIX,
    modelName: vars.MODEL_NAME,
    images: imagesOf(vars, runtime),
    ...(vars.SERVING_SERVICE_ACCOUNT
      ? { servingServiceAccount: vars.SERVING_SERVICE_ACCOUNT }
      : {}),
    indexBuild: {
      job: vars.INDEX_BUILD_JOB,
      inlineMaxSeconds: vars.INDEX_BUILD_INLINE_MAX_S,
      cores: vars.INDEX_BUILD_CORES,
    },
    verification: {
      readyTimeoutMs: vars.VERIFY_READY_TIMEOUT_MS,
      latencySamples: vars.VERIFY_LATENCY_SAMPLES,
      latencyP50BudgetMs: vars.VERIFY_LATENCY_P50_MS,
      latencyP99BudgetMs: vars.VERIFY_LATENCY_P99_MS,
      recallQueries: vars.VERIFY_RECALL_QUERIES,
      minRecall: vars.VERIFY_MIN_RECALL,
      checksTimeoutMs: vars.VERIFY_CHECKS_TIMEOUT_MS,
    },
    leases: leaseSettings(vars.LEASE_TTL_S * 1000),
    artifactRoots: artifactRootsOf(vars, runtime),
    rollout,
    deploymentPolicy,
    replay,
    freshness,
    canaryTickMs: vars.CANARY_TICK_S * 1000,
  });
}

/**
 * Default images live in the project's `recdeploy` Artifact Registry
 * repository (deploy/ creates it); the local platform runs ann-serving from
 * the checkout whatever the image says, so local names are only labels.
 */
function imagesOf(vars: ChainVars, runtime: RuntimeConfig): ChainConfig['images'] {
  const registry =
    runtime.backend === 'gcp'
      ? `${runtime.region}-docker.pkg.dev/${runtime.projectId}/recdeploy`
      : 'local/recdeploy';
  return {
    'tf-serving': vars.TF_SERVING_IMAGE ?? `${registry}/tf-serving-native:latest`,
    'ann-serving': vars.ANN_SERVING_IMAGE ?? `${registry}/ann-serving:latest`,
  };
}

function artifactRootsOf(vars: ChainVars, runtime: RuntimeConfig): string[] {
  if (vars.ARTIFACT_ROOTS !== undefined) {
    return vars.ARTIFACT_ROOTS.split(',')
      .map((root) => root.trim())
      .filter((root) => root !== '')
      .map((root) => path.resolve(root));
  }
  return runtime.backend === 'local' ? [path.resolve(runtime.dataDir)] : [];
}
