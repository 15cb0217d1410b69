import { Type } from '@sinclair/typebox';
import { ConfigError } from '../errors.js';
import { readEnv, type Env } from './env-reader.js';

const PROJECT_REQUIRED = 'GOOGLE_CLOUD_PROJECT is required when RECDEPLOY_BACKEND=gcp';

const NAME = { pattern: '^[a-zA-Z][a-zA-Z0-9._~%+-]{2,254}$' };

/**
 * The variables every recdeploy deployable reads. Each later deployable
 * (functions, services) extends this with its own and exposes one
 * `loadXConfig(env)`; nothing else reads process.env.
 */
export const RuntimeEnvSchema = Type.Object({
  /** `local`: SQLite + local bus (one machine). `gcp`: Firestore + Pub/Sub. */
  RECDEPLOY_BACKEND: Type.Union([Type.Literal('local'), Type.Literal('gcp')], { default: 'local' }),
  /** Google Cloud project; required with the gcp backend. */
  GOOGLE_CLOUD_PROJECT: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' })),
  /** Region of Vertex AI and Cloud Run. */
  REGION: Type.String({ default: 'us-central1', pattern: '^[a-z]+-[a-z]+[0-9]$' }),
  /** Where the local backend keeps its SQLite files and artifacts. */
  RECDEPLOY_DATA_DIR: Type.String({ default: '.recdeploy', minLength: 1 }),
  FIRESTORE_DATABASE: Type.String({ default: '(default)', minLength: 1 }),
  FIRESTORE_COLLECTION: Type.String({ default: 'deployments', ...NAME }),
  TOPIC_TRAINING_COMPLETED: Type.String({ default: 'training-completed', ...NAME }),
  TOPIC_MODEL_REGISTERED: Type.String({ default: 'model-registered', ...NAME }),
  TOPIC_MODEL_DEPLOYED: Type.String({ default: 'model-deployed', ...NAME }),
  TOPIC_DEPLOYMENT_FINISHED: Type.String({ default: 'deployment-finished', ...NAME }),
  /** Cloud Scheduler's tick that starts a reconciler pass (functions/reconcile). */
  TOPIC_RECONCILE_TICK: Type.String({ default: 'reconcile-tick', ...NAME }),
  TOPIC_FRESHNESS_ALERT: Type.String({ default: 'freshness-alerts', ...NAME }),
  LOG_LEVEL: Type.Union(
    [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
    { default: 'info' },
  ),
  /**
   * Where JSON log lines go: stdout (what Cloud Run and Cloud Functions
   * collect) or stderr (the local stack, whose stdout is for people and scripts).
   */
  LOG_STREAM: Type.Union([Type.Literal('stdout'), Type.Literal('stderr')], { default: 'stdout' }),
  /**
   * A file for the JSON log lines instead of LOG_STREAM (appended, rotated to
   * `<file>.1` past a few MB): the local stack's `{dataDir}/logs/stack.log`.
   */
  LOG_FILE: Type.Optional(Type.String({ minLength: 1 })),
});

export interface Topics {
  readonly trainingCompleted: string;
  readonly modelRegistered: string;
  readonly modelDeployed: string;
  readonly deploymentFinished: string;
  /** Ticks of the reconciler (cloud: Cloud Scheduler publishes one a minute; local: unused, a timer). */
  readonly reconcileTick: string;
  /** freshness-alert events, published by the reconciler (shared/usecases/freshness-ticks.ts). */
  readonly freshnessAlert: string;
}

export type RuntimeConfig =
  | (CommonConfig & { readonly backend: 'local'; readonly dataDir: string })
  | (CommonConfig & {
      readonly backend: 'gcp';
      readonly projectId: string;
      readonly firestoreDatabase: string;
    });

interface CommonConfig {
  readonly region: string;
  readonly collection: string;
  readonly topics: Topics;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** LOG_FILE when set, else LOG_STREAM. */
  readonly logStream: 'stdout' | 'stderr' | { readonly file: string };
}

/** Parses the shared variables; throws ConfigError listing every problem. */
export function loadRuntimeConfig(env: Env = process.env): Readonly<RuntimeConfig> {
  const vars = readEnv(RuntimeEnvSchema, env, (v) =>
    v.RECDEPLOY_BACKEND === 'gcp' && !v.GOOGLE_CLOUD_PROJECT ? [PROJECT_REQUIRED] : [],
  );
  const common: CommonConfig = {
    region: vars.REGION,
    collection: vars.FIRESTORE_COLLECTION,
    logLevel: vars.LOG_LEVEL,
    logStream: vars.LOG_FILE === undefined ? vars.LOG_STREAM : { file: vars.LOG_FILE },
    topics: {
      trainingCompleted: vars.TOPIC_TRAINING_COMPLETED,
      modelRegistered: vars.TOPIC_MODEL_REGISTERED,
      modelDeployed: vars.TOPIC_MODEL_DEPLOYED,
      deploymentFinished: vars.TOPIC_DEPLOYMENT_FINISHED,
      reconcileTick: vars.TOPIC_RECONCILE_TICK,
      freshnessAlert: vars.TOPIC_FRESHNESS_ALERT,
    },
  };
  if (vars.RECDEPLOY_BACKEND === 'local') {
    return Object.freeze({ ...common, backend: 'local', dataDir: vars.RECDEPLOY_DATA_DIR });
  }
  const projectId = vars.GOOGLE_CLOUD_PROJECT;
  // Guaranteed by the cross-check above; repeated so the compiler can narrow it.
  if (projectId === undefined) throw new ConfigError([PROJECT_REQUIRED]);
  return Object.freeze({
    ...common,
    backend: 'gcp',
    projectId,
    firestoreDatabase: vars.FIRESTORE_DATABASE,
  });
}

/** Every topic name, for creating them (local bus) or checking them (deploy configs). */
export function topicNames(topics: Topics): string[] {
  return [
    topics.trainingCompleted,
    topics.modelRegistered,
    topics.modelDeployed,
    topics.deploymentFinished,
    topics.reconcileTick,
    topics.freshnessAlert,
  ];
}
