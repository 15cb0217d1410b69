/**
 * The index-build job: builds (or reuses) a bundle's ANN index at
 * `{ARTIFACT_URI}/ann/index/`, then publishes NOTIFY_MESSAGE to NOTIFY_TOPIC,
 * whether the build succeeded or not: the deploy step runs again and finds out
 * which from the stored index and the build status. It ships in the
 * ann-serving image (TF.js and hnswlib are there) and runs as a Cloud Run job
 * (`node services/ann-serving/dist/src/index-build-job.js`) or, on one
 * machine, as LocalIndexBuilds' child process.
 *
 * Environment: RECDEPLOY_RUN_ID, ARTIFACT_URI, NOTIFY_TOPIC, NOTIFY_MESSAGE
 * (JSON of an OutgoingMessage); ARTIFACT_ROOTS (comma separated) for file:// bundles;
 * RECDEPLOY_STATUS_FILE when run by LocalIndexBuilds; plus the shared runtime
 * variables (RECDEPLOY_BACKEND, RECDEPLOY_DATA_DIR, GOOGLE_CLOUD_PROJECT…),
 * which choose the event bus. The last log line is the status line. Exit code
 * 0 when the index is stored and the notification published, else 1.
 */
import { Type } from '@sinclair/typebox';
import {
  PermanentError,
  buildStoredIndex,
  createCloudLogger,
  loadRuntimeConfig,
  readEnv,
  toRecdeployError,
  type ArtifactStore,
  type Env,
  type Logger,
  type OutgoingMessage,
  type RuntimeConfig,
} from '@recdeploy/shared';
import { loadChainConfig } from '@recdeploy/shared/chain';
import { createAdapters } from '@recdeploy/shared/wiring';

const JobEnvSchema = Type.Object({
  RECDEPLOY_RUN_ID: Type.String({ minLength: 1 }),
  ARTIFACT_URI: Type.String({ minLength: 1 }),
  NOTIFY_TOPIC: Type.String({ minLength: 1 }),
  NOTIFY_MESSAGE: Type.String({ minLength: 1 }),
  RECDEPLOY_STATUS_FILE: Type.Optional(Type.String({ minLength: 1 })),
});

interface Outcome {
  readonly state: 'succeeded' | 'failed';
  readonly error?: string;
}

async function main(env: Env): Promise<number> {
  const runtime = loadRuntimeConfig(env);
  const job = readEnv(JobEnvSchema, env);
  const notify = parseOutgoingMessage(job.NOTIFY_MESSAGE);
  const logger = createCloudLogger({
    level: runtime.logLevel,
    base: { service: 'index-build-job', runId: job.RECDEPLOY_RUN_ID },
  });
  // ARTIFACT_ROOTS is read as the chain reads it, so both agree on what is allowed.
  const outcome = await build(job.ARTIFACT_URI, loadChainConfig(env).artifactRoots, logger);
  // Before the notification: the deploy step it triggers reads this status.
  if (job.RECDEPLOY_STATUS_FILE) {
    const { reportIndexBuildOutcome } = await import('@recdeploy/shared/local');
    await reportIndexBuildOutcome(job.RECDEPLOY_STATUS_FILE, {
      runId: job.RECDEPLOY_RUN_ID,
      artifactUri: job.ARTIFACT_URI,
      ...outcome,
    });
  }
  const notified = await publish(runtime, logger, job.NOTIFY_TOPIC, notify);
  const status = {
    state: outcome.state,
    artifactUri: job.ARTIFACT_URI,
    topic: job.NOTIFY_TOPIC,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    ...(notified instanceof Error ? { notifyError: notified.message } : { messageId: notified }),
  };
  const ok = outcome.state === 'succeeded' && !(notified instanceof Error);
  if (ok) logger.info('index build finished', status);
  else logger.error('index build finished', status);
  return ok ? 0 : 1;
}

/** Publishes the notification; the message id, or the error that stopped it. */
async function publish(
  runtime: RuntimeConfig,
  logger: Logger,
  topic: string,
  message: OutgoingMessage,
): Promise<string | Error> {
  try {
    const adapters = await createAdapters(runtime, logger);
    try {
      return await adapters.eventBus.publish(topic, message);
    } finally {
      await adapters.close();
    }
  } catch (error) {
    const failure = toRecdeployError(error);
    logger.error('index build notification failed', { topic, error: failure.message });
    return failure;
  }
}

async function build(uri: string, roots: readonly string[], logger: Logger): Promise<Outcome> {
  let artifacts: ArtifactStore | undefined;
  try {
    artifacts = await artifactStoreFor(uri, roots, logger);
    await buildStoredIndex({
      artifacts,
      artifactUri: uri,
      logger,
      onProgress: progressLog(logger),
    });
    return { state: 'succeeded' };
  } catch (error) {
    const failure = toRecdeployError(error);
    logger.error('index build failed', { code: failure.code, error: failure.message });
    return { state: 'failed', error: `${failure.code}: ${failure.message}` };
  } finally {
    await artifacts?.close();
  }
}

/** The store for the bundle's scheme; each backend's module loads only when used. */
async function artifactStoreFor(
  uri: string,
  roots: readonly string[],
  logger: Logger,
): Promise<ArtifactStore> {
  if (/^file:/i.test(uri)) {
    const { LocalArtifactStore } = await import('@recdeploy/shared/local');
    return new LocalArtifactStore({ roots, logger });
  }
  if (/^gs:/i.test(uri)) {
    const { GcsArtifactStore } = await import('@recdeploy/shared/gcp');
    return new GcsArtifactStore({ logger });
  }
  throw new PermanentError(
    'ARTIFACT.FORBIDDEN',
    `ARTIFACT_URI ${uri}: the index-build job reads gs:// and file:// URIs only`,
  );
}

/** NOTIFY_MESSAGE: `{"data": …, "attributes"?: {string: string}, "orderingKey"?: string}`. */
function parseOutgoingMessage(text: string): OutgoingMessage {
  const invalid = (problem: string) =>
    new PermanentError('CONFIG.INVALID', `NOTIFY_MESSAGE ${problem}: ${text.slice(0, 200)}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`is not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || !('data' in value)) {
    throw invalid('must be a JSON object with "data"');
  }
  const { attributes, orderingKey } = value as { attributes?: unknown; orderingKey?: unknown };
  const attributesOk =
    attributes === undefined ||
    (typeof attributes === 'object' &&
      attributes !== null &&
      Object.values(attributes).every((v) => typeof v === 'string'));
  if (!attributesOk) throw invalid('"attributes" must map names to strings');
  if (orderingKey !== undefined && typeof orderingKey !== 'string') {
    throw invalid('"orderingKey" must be a string');
  }
  return value;
}

/** Logs each phase once and the graph build every 10%. */
function progressLog(logger: Logger): (p: { phase: string; done: number; total: number }) => void {
  let last = '';
  return ({ phase, done, total }) => {
    const tenth = phase === 'build' ? Math.floor((10 * done) / Math.max(total, 1)) : 0;
    const key = `${phase}:${tenth}`;
    if (key === last) return;
    last = key;
    logger.info('index build progress', { phase, done, total });
  };
}

/** A job that cannot even start its build (bad configuration) still reports, when it knows where. */
async function reportUnstartable(env: Env, message: string): Promise<void> {
  const file = env.RECDEPLOY_STATUS_FILE;
  if (!file) return;
  const { reportIndexBuildOutcome } = await import('@recdeploy/shared/local');
  await reportIndexBuildOutcome(file, {
    runId: env.RECDEPLOY_RUN_ID ?? '',
    artifactUri: env.ARTIFACT_URI ?? '',
    state: 'failed',
    error: message,
  });
}

main(process.env).then(
  (code) => process.exit(code),
  async (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`index-build-job failed: ${message}\n`);
    await reportUnstartable(process.env, message).catch(() => undefined);
    process.exit(1);
  },
);
