/**
 * The chain's adapters: picks every port's adapter for the configured
 * backend (STYLE.md §4). Adapters are imported on demand, so the local stack
 * never loads the Google SDKs and a cloud function never loads
 * better-sqlite3 or starts processes.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChainConfig } from '../config/chain-config.js';
import type { Logger } from '../logging/logger.port.js';
import type { ChainDeps } from '../usecases/chain-deps.js';
import { createAdapters } from './create-adapters.js';

/** One set of adapters per process and configuration: the three functions of a local stack share it. */
const shared = new Map<string, Promise<ChainDeps>>();

/** The chain's adapters for `config` (memoised per process). */
export function chainDepsFor(config: ChainConfig, logger: Logger): Promise<ChainDeps> {
  const key = JSON.stringify(config);
  let deps = shared.get(key);
  if (deps === undefined) {
    deps = createChainDeps(config, logger);
    shared.set(key, deps);
    // A failed creation (say, a locked file) must not stick: the next event tries again.
    deps.catch(() => shared.delete(key));
  }
  return deps;
}

/** Closes every memoised set of adapters (the local stack's shutdown, tests). */
export async function closeChainDeps(): Promise<void> {
  const all = [...shared.values()];
  shared.clear();
  await Promise.allSettled(all.map(async (deps) => closeDeps(await deps)));
}

export async function createChainDeps(config: ChainConfig, logger: Logger): Promise<ChainDeps> {
  const instanceId = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const base = await createAdapters(config.runtime, logger);
  const parts =
    config.runtime.backend === 'local'
      ? await localParts(config, logger)
      : await cloudParts(config, logger);
  const { createStoredIndexes } = await import('../usecases/stored-index.js');
  const { createRevisionVerifier } = await import('../verification/revision-verifier.js');
  return {
    config,
    logger,
    instanceId,
    runStore: base.runStore,
    eventBus: base.eventBus,
    ...parts,
    indexes: createStoredIndexes({
      artifacts: parts.artifacts,
      logger,
      cores: config.indexBuild.cores,
    }),
    verifier: createRevisionVerifier({
      settings: config.verification,
      logger,
      ...(parts.authHeaders === undefined ? {} : { headers: parts.authHeaders }),
    }),
  };
}

type BackendParts = Pick<
  ChainDeps,
  'registry' | 'platform' | 'artifacts' | 'indexBuilds' | 'pipelineJobs' | 'metrics'
> & {
  readonly authHeaders?: (url: string, audience: string) => Promise<Record<string, string>>;
};

async function localParts(config: ChainConfig, logger: Logger): Promise<BackendParts> {
  if (config.runtime.backend !== 'local') throw new Error('local adapters need the local backend');
  const dataDir = path.resolve(config.runtime.dataDir);
  const local = await import('../adapters/local/index.js');
  const repoRoot = findRepoRoot();
  const platform = new local.LocalProcessPlatform({
    file: path.join(dataDir, 'serving.db'),
    logsDir: path.join(dataDir, 'logs'),
    logger: logger.child({ port: 'platform' }),
    servingCommand: local.defaultServingCommand(repoRoot),
  });
  await platform.start();
  return {
    registry: new local.LocalModelRegistry({
      file: path.join(dataDir, 'registry.db'),
      logger: logger.child({ port: 'registry' }),
    }),
    platform,
    // What the service routers recorded of every request, in the same file.
    metrics: new local.LocalRevisionMetrics(path.join(dataDir, 'serving.db')),
    artifacts: new local.LocalArtifactStore({
      roots: config.artifactRoots,
      logger: logger.child({ port: 'artifacts' }),
    }),
    indexBuilds: new local.LocalIndexBuilds({
      dir: path.join(dataDir, 'index-builds'),
      logger: logger.child({ port: 'index-builds' }),
      command: local.defaultIndexBuildCommand(repoRoot),
      env: {
        RECDEPLOY_BACKEND: 'local',
        RECDEPLOY_DATA_DIR: dataDir,
        ARTIFACT_ROOTS: config.artifactRoots.join(','),
      },
    }),
  };
}

async function cloudParts(config: ChainConfig, logger: Logger): Promise<BackendParts> {
  const runtime = config.runtime;
  if (runtime.backend !== 'gcp') throw new Error('cloud adapters need the gcp backend');
  const gcp = await import('../adapters/gcp/index.js');
  const artifacts = new gcp.GcsArtifactStore({ logger: logger.child({ port: 'artifacts' }) });
  // Rehearsals only (docs/local.md): plaintext gRPC to loopback stand-ins, else `{}`.
  const { emulatorClients } = await import('./emulator-client-options.js');
  const emulators = await emulatorClients(process.env, runtime.projectId);
  return {
    registry: new gcp.VertexModelRegistry({
      projectId: runtime.projectId,
      region: runtime.region,
      logger: logger.child({ port: 'registry' }),
      ...emulators.vertex,
    }),
    platform: new gcp.CloudRunPlatform({
      projectId: runtime.projectId,
      region: runtime.region,
      logger: logger.child({ port: 'platform' }),
      ...emulators.cloudRun,
      ...(config.servingServiceAccount === undefined
        ? {}
        : { serviceAccount: config.servingServiceAccount }),
    }),
    artifacts,
    metrics: new gcp.CloudMonitoringMetrics({
      projectId: runtime.projectId,
      logger: logger.child({ port: 'metrics' }),
      ...emulators.monitoring,
    }),
    indexBuilds: new gcp.CloudRunIndexBuilds({
      jobName: `projects/${runtime.projectId}/locations/${runtime.region}/jobs/${config.indexBuild.job}`,
      logger: logger.child({ port: 'index-builds' }),
      ...emulators.cloudRun,
    }),
    pipelineJobs: new gcp.VertexPipelineJobs({
      region: runtime.region,
      logger: logger.child({ port: 'pipeline-jobs' }),
      ...emulators.vertex,
      readMetrics: (destination) => gcp.readPushedMetrics(artifacts, destination),
    }),
    authHeaders: gcp.idTokenHeaders(),
  };
}

async function closeDeps(deps: ChainDeps): Promise<void> {
  await Promise.allSettled([
    deps.platform.close(),
    deps.metrics.close(),
    deps.registry.close(),
    deps.artifacts.close(),
    deps.indexBuilds.close(),
    deps.pipelineJobs?.close(),
    deps.runStore.close(),
    deps.eventBus.close(),
  ]);
}

/** The checkout holding services/ann-serving (the local platform runs it from there). */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'services', 'ann-serving', 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error('cannot find the recdeploy checkout (services/ann-serving) above shared/');
    dir = parent;
  }
}
