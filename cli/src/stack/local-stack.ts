/**
 * The local stack (`recdeploy start`, `npm start`): the whole program on one
 * machine. The three functions run under the functions-framework on loopback
 * ports, the LocalEventBus pushes CloudEvents to them, runs live in SQLite,
 * each revision is an ann-serving child process behind its service's router,
 * and the dashboard is a child process over the same run store.
 *
 * On start it brings back what the store recorded (the serving platform
 * re-adopts or restarts live revisions), creates the sample model if there is
 * none, and publishes a training-completed event for it unless that run
 * already exists: a second start deploys nothing twice.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildTrainingCompletedV1, type TrainingCompletedV1 } from '@recdeploy/events';
import {
  createCloudLogger,
  runKey,
  wantedCanaryPercent,
  type RunDocument,
  type RunStore,
} from '@recdeploy/shared';
import { loadChainConfig, type ChainConfig } from '@recdeploy/shared/chain';
import { chainDepsFor, closeChainDeps } from '@recdeploy/shared/chain-wiring';
import type { LocalEventBus } from '@recdeploy/shared/local';
import { startDashboardProcess, type DashboardProcess } from './dashboard-process.js';
import {
  ensureSampleModel,
  SAMPLE_ENDPOINT,
  SAMPLE_MODEL_DIR,
  sampleManifestMetrics,
} from './sample-model.js';
import { longestLeaseMs, startBus } from './stack-bus.js';
import { acquireStackLock } from './stack-lock.js';
import { startCanaryTicker, startReconciler } from './stack-reconciler.js';
import { removeStackState, writeStackHolder, writeStackState } from './stack-state.js';

/** The sample run the stack deploys (its run id is `local-sample-sample-run-1`). */
export const SAMPLE_RUN = { modelEndpointId: SAMPLE_ENDPOINT, trainingRunId: 'sample-run-1' };

export interface LocalStackOptions {
  /** RECDEPLOY_DATA_DIR: where every file of the stack lives. */
  readonly dataDir: string;
  /** Progress lines for people (stderr). */
  readonly progress: (line: string) => void;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Dashboard port; 0 picks a free one. */
  readonly dashboardPort?: number;
  /** Do not create or deploy the sample model (start the stack only). */
  readonly noSample?: boolean;
  /** Catalogue size of the sample model, when it has to be created. */
  readonly products?: number;
}

export interface RunningStack {
  readonly dataDir: string;
  readonly functionUrls: Readonly<Record<'register' | 'deploy' | 'verify', string>>;
  readonly dashboardUrl: string;
  readonly runStore: RunStore;
  /** The sample run once it ended (live, failed, skipped), when the sample is deployed. */
  readonly sampleRun?: RunDocument;
  /** Stops everything the stack started (functions, bus, routers, revisions, dashboard). */
  stop(): Promise<void>;
}

const FUNCTIONS = ['register', 'deploy', 'verify'] as const;

export async function startLocalStack(options: LocalStackOptions): Promise<RunningStack> {
  const dataDir = path.resolve(options.dataDir);
  // The functions read their configuration from the environment when they load.
  Object.assign(process.env, {
    RECDEPLOY_BACKEND: 'local',
    RECDEPLOY_DATA_DIR: dataDir,
    LOG_LEVEL: options.logLevel ?? 'warn',
    // stdout is for the endpoints (and --json); logs go with the progress lines.
    LOG_STREAM: 'stderr',
  });
  process.env.ARTIFACT_ROOTS ??= dataDir;
  const config = loadChainConfig(process.env);
  const logger = createCloudLogger({
    level: config.runtime.logLevel,
    stream: config.runtime.logStream,
    base: { service: 'stack' },
  });
  // One stack per data directory, by an OS lock taken before anything starts
  // (a second start fails here, naming the holder); the kernel frees it when
  // this process ends, however it ends. stack.json names the holder at once.
  const lock = await acquireStackLock(dataDir);
  const startedAt = new Date().toISOString();
  const stoppers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.reverse()) await stopOne().catch(() => undefined);
    removeStackState(dataDir);
    // Last: a new stack may start only once this one has let go of everything.
    lock.release();
  };
  try {
    writeStackHolder(dataDir, { pid: process.pid, startedAt });
    options.progress(`data directory ${dataDir}`);
    // Eagerly, so the serving platform brings back the revisions the store recorded.
    const deps = await chainDepsFor(config, logger);
    stoppers.push(closeChainDeps);
    const functionUrls = await startFunctions(stoppers);
    const bus = startBus(config, dataDir, functionUrls, logger, longestLeaseMs(config));
    stoppers.push(() => bus.close());
    // After the bus, so what it re-drives is delivered; stopped before it.
    const reconciler = startReconciler(
      { ...deps, logger: logger.child({ service: 'reconciler' }) },
      { intervalMs: config.leases.ttlMs, progress: options.progress },
    );
    stoppers.push(() => reconciler.stop());
    const canaries = startCanaryTicker(
      { ...deps, logger: logger.child({ service: 'canary' }) },
      { intervalMs: config.canaryTickMs, progress: options.progress },
    );
    stoppers.push(() => canaries.stop());
    const dashboard: DashboardProcess = await startDashboardProcess({
      dataDir,
      port: options.dashboardPort ?? 0,
      logLevel: options.logLevel ?? 'warn',
    });
    stoppers.push(() => dashboard.stop());
    writeStackState(dataDir, {
      pid: process.pid,
      startedAt,
      functions: functionUrls,
      dashboardUrl: dashboard.url,
    });
    options.progress(`functions: ${FUNCTIONS.map((f) => `${f} ${functionUrls[f]}`).join(', ')}`);
    options.progress(`dashboard: ${dashboard.url}`);
    const base = {
      dataDir,
      functionUrls,
      dashboardUrl: dashboard.url,
      runStore: deps.runStore,
      stop,
    };
    if (options.noSample) return base;
    const sampleRun = await deploySample(config, deps.runStore, bus, options);
    return { ...base, sampleRun };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startFunctions(
  stoppers: (() => Promise<unknown>)[],
): Promise<Record<(typeof FUNCTIONS)[number], string>> {
  // Importing registers each handler with the functions-framework.
  await import('@recdeploy/function-register');
  await import('@recdeploy/function-deploy');
  await import('@recdeploy/function-verify');
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  const urls: Partial<Record<(typeof FUNCTIONS)[number], string>> = {};
  for (const name of FUNCTIONS) {
    // The framework's own request pipeline (CloudEvent decoding, 204/500
    // answers), listening on a loopback port instead of $PORT.
    const server = getTestServer(name);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stoppers.push(() => closeServer(server));
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }
  return urls as Record<(typeof FUNCTIONS)[number], string>;
}

async function deploySample(
  config: ChainConfig,
  store: RunStore,
  bus: LocalEventBus,
  options: LocalStackOptions,
): Promise<RunDocument> {
  const runId = runKey(SAMPLE_RUN);
  const existing = await store.getRun(runId);
  if (existing === undefined) {
    const dir = await ensureSampleModel(path.join(options.dataDir, SAMPLE_MODEL_DIR), {
      progress: options.progress,
      ...(options.products === undefined ? {} : { products: options.products }),
    });
    const message = initialSampleMessage(pathToFileURL(dir).href);
    const id = await bus.publish(config.runtime.topics.trainingCompleted, {
      data: message,
      attributes: { origin: 'recdeploy-start' },
    });
    options.progress(`published training-completed ${id} for run ${runId}`);
  } else {
    options.progress(`run ${runId} exists (${existing.status}); not publishing it again`);
  }
  return followRun(store, runId, options.progress);
}

/** The training-completed message of the sample model's first run (what `start` deploys). */
export function initialSampleMessage(artifactUri: string): TrainingCompletedV1 {
  return buildTrainingCompletedV1({
    training_run_id: SAMPLE_RUN.trainingRunId,
    model_endpoint_id: SAMPLE_RUN.modelEndpointId,
    model_slug: 'sample-two-tower',
    run_number: 1,
    model_type: 'retrieval',
    retrieval_algorithm: 'hnsw',
    artifact_uri: artifactUri,
    is_blessed: true,
    metrics: sampleManifestMetrics(fileURLToPath(artifactUri)),
    completed_at: new Date().toISOString(),
  });
}

/**
 * Prints each status change of the run until it ends. Changes are read from
 * the run's history, so none is missed between two looks at the store.
 */
async function followRun(
  store: RunStore,
  runId: string,
  progress: (line: string) => void,
): Promise<RunDocument> {
  const started = Date.now();
  let printed = 0;
  const ended = new Set(['live', 'failed', 'skipped', 'rolled_back', 'replaced']);
  for (;;) {
    const run = await store.getRun(runId);
    if (run !== undefined) {
      const changes = run.history.filter((entry) => entry.from !== entry.to);
      for (const change of changes.slice(printed)) {
        const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
        const current = change === changes.at(-1);
        progress(`[${seconds} s] ${runId}: ${current ? describeStatus(run) : change.to}`);
      }
      printed = changes.length;
      if (ended.has(run.status)) return run;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function describeStatus(run: RunDocument): string {
  switch (run.status) {
    case 'registered':
      return `registered as ${run.registry?.model ?? '?'} version ${run.registry?.version ?? '?'}`;
    case 'deploying':
      return 'deploying (choosing the runtime, building the ANN index, starting the revision)';
    case 'deployed':
      return `deployed ${run.serving?.revision ?? ''} with 0% traffic (${run.serving?.runtimeReason ?? ''})`;
    case 'verifying':
      return `verifying ${run.serving?.tagUrl ?? ''}`;
    case 'canary':
      return `canary: verified; ${run.canary === undefined ? 'a share' : `${wantedCanaryPercent(run.canary)}%`} of traffic, judged on live traffic against the stable revision`;
    case 'live':
      return `live: ${run.verification?.checks.length ?? 0} checks passed; p50 ${run.verification?.latencyP50Ms ?? '?'} ms, p99 ${run.verification?.latencyP99Ms ?? '?'} ms`;
    case 'failed':
    case 'skipped':
      return `${run.status}: ${run.statusReason ?? 'no reason recorded'}`;
    default:
      return run.status;
  }
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
