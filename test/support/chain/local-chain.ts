/**
 * The deployment chain on the embedded adapters, as `npm start` will run it:
 * the three functions under the real functions-framework (its test server,
 * listening on loopback ports), the LocalEventBus pushing CloudEvents to them
 * with Pub/Sub push semantics, SQLite for runs, the registry and the serving
 * state, and ann-serving child processes behind per-service routers.
 *
 * The functions read their configuration from the environment when their
 * modules load, and ES modules load once per process: so one process gets one
 * chain (one data directory). Tests that need a fresh chain use new endpoints.
 */
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildTrainingCompletedV1, type TrainingCompletedV1 } from '@recdeploy/events';
import type { RunDocument, RunStatus, RunStore } from '@recdeploy/shared';
import {
  LocalEventBus,
  LocalModelRegistry,
  REVISION_HEADER,
  SqliteRunStore,
  assertRetryHorizonOutlasts,
} from '@recdeploy/shared/local';
import { loadChainConfig } from '@recdeploy/shared/chain';
import { longestLeaseMs } from '../../../cli/src/stack/stack-bus.js';
import { closeChainDeps } from '@recdeploy/shared/chain-wiring';
import type { ChainUnderTest } from './chain-under-test.js';
import { waitUntilDelivered } from './local-chain-probes.js';

export interface LocalChain extends ChainUnderTest {
  readonly mode: 'local';
  readonly dataDir: string;
  /** The only directory file:// artifacts may come from (ARTIFACT_ROOTS). */
  readonly artifactsDir: string;
  /** The functions' URLs (functions-framework test servers on loopback). */
  readonly functionUrls: Readonly<Record<'register' | 'deploy' | 'verify', string>>;
  /** A second handle on the run store, as a dashboard would have. */
  readonly runs: SqliteRunStore;
  readonly registry: LocalModelRegistry;
  /** The bus that delivers (the functions publish through their own handles on the same file). */
  readonly bus: LocalEventBus;
  /** Copies a bundle directory into the artifact root; returns its file:// URI. */
  addBundle(sourceDir: string, name: string): Promise<string>;
  publishTrainingCompleted(message: TrainingCompletedV1): Promise<string>;
  /** Resolves with the run once its status is one of `statuses`. */
  waitForRun(
    runId: string,
    statuses: readonly RunStatus[],
    timeoutMs?: number,
  ): Promise<RunDocument>;
  stop(): Promise<void>;
}

/** 0.1 s to 1 s backoff, 700 attempts: a guaranteed horizon of about 11.5 min (a rollback holds a service 5 min). */
const CHAIN_TEST_RETRY = {
  minBackoffMs: 100,
  maxBackoffMs: 1_000,
  maxDeliveryAttempts: 700,
} as const;

let started: Promise<LocalChain> | undefined;

/** The process's local chain, started on first use. */
export function localChain(): Promise<LocalChain> {
  started ??= startLocalChain();
  return started;
}

/** The local chain if one was started (to stop it at the end), else undefined. */
export function localChainIfStarted(): Promise<LocalChain> | undefined {
  return started;
}

async function startLocalChain(): Promise<LocalChain> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-chain-'));
  const artifactsDir = path.join(dataDir, 'artifacts');
  await mkdir(artifactsDir, { recursive: true });
  Object.assign(process.env, {
    RECDEPLOY_BACKEND: 'local',
    RECDEPLOY_DATA_DIR: dataDir,
    ARTIFACT_ROOTS: artifactsDir,
    LOG_LEVEL: process.env.CHAIN_LOG_LEVEL ?? 'error',
    METADATA_SERVER_DETECTION: 'none',
  });
  // Importing registers each handler with the functions-framework.
  await import('../../../functions/register/src/index.js');
  await import('../../../functions/deploy/src/index.js');
  await import('../../../functions/verify/src/index.js');
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  const servers = {
    register: await listen(getTestServer('register')),
    deploy: await listen(getTestServer('deploy')),
    verify: await listen(getTestServer('verify')),
  };
  const functionUrls = {
    register: urlOf(servers.register),
    deploy: urlOf(servers.deploy),
    verify: urlOf(servers.verify),
  };

  // Fast retries for tests, but the same invariant as the stack: the retry
  // horizon outlasts twice the longest lease a delivery may wait on.
  assertRetryHorizonOutlasts({
    leaseMs: longestLeaseMs(loadChainConfig(process.env)),
    subscription: CHAIN_TEST_RETRY,
  });
  const bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db'), pollIntervalMs: 100 });
  const subscriptions: [string, string][] = [
    ['training-completed', functionUrls.register],
    ['model-registered', functionUrls.deploy],
    ['model-deployed', functionUrls.verify],
  ];
  for (const [topic, endpoint] of subscriptions) {
    bus.createTopic(topic);
    bus.createSubscription({
      name: `${topic}-push`,
      topic,
      pushEndpoint: endpoint,
      // The push request timeout: a deploy builds an index and starts a server.
      ackDeadlineMs: 120_000,
      ...CHAIN_TEST_RETRY,
    });
  }
  bus.createTopic('deployment-finished');
  bus.start();
  const runs = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
  const registry = new LocalModelRegistry({
    file: path.join(dataDir, 'registry.db'),
    logger: silentLogger,
  });

  const chain: LocalChain = {
    mode: 'local',
    config: loadChainConfig(process.env),
    dataDir,
    artifactsDir,
    functionUrls,
    runs,
    registry,
    bus,
    async addBundle(sourceDir, name) {
      const target = path.join(artifactsDir, name);
      await cp(sourceDir, target, { recursive: true });
      return pathToFileURL(target).href;
    },
    readArtifact: (uri, relativePath) =>
      readFile(path.join(fileURLToPath(uri), relativePath), 'utf8'),
    publishTrainingCompleted: (message) =>
      bus.publish('training-completed', { data: message, attributes: { origin: 'test' } }),
    publish: (topic, data) => bus.publish(topic, { data }),
    waitForRun: (runId, statuses, timeoutMs = 90_000) =>
      waitForRunIn(runs, runId, statuses, timeoutMs),
    waitUntilDelivered: () => waitUntilDelivered(chain),
    modelVersions: (model) => registry.listVersions(model),
    // The local routers take any caller, and say which revision answered.
    callerHeaders: () => Promise.resolve({}),
    answeringRevision: (_url, headers) => Promise.resolve(headers.get(REVISION_HEADER)),
    async stop() {
      await bus.close();
      await closeChainDeps();
      await Promise.allSettled(Object.values(servers).map(close));
      await runs.close();
      await registry.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return chain;
}

/** A training-completed message for `artifactUri`; override what a test is about. */
export function trainingCompleted(
  artifactUri: string,
  overrides: Partial<Omit<TrainingCompletedV1, 'schema_version'>> = {},
): TrainingCompletedV1 {
  return buildTrainingCompletedV1({
    training_run_id: 'train-001',
    model_endpoint_id: 'recs-home',
    model_slug: 'two-tower',
    run_number: 1,
    model_type: 'retrieval',
    retrieval_algorithm: 'hnsw',
    artifact_uri: artifactUri,
    is_blessed: true,
    metrics: { recall_at_100: 0.42 },
    completed_at: '2026-11-26T08:00:00Z',
    ...overrides,
  });
}

/** Polls `store` until the run's status is one of `statuses`; `describe` adds context to a timeout. */
export async function waitForRunIn(
  store: RunStore,
  runId: string,
  statuses: readonly RunStatus[],
  timeoutMs: number,
  describe: () => string = () => '',
): Promise<RunDocument> {
  const deadline = Date.now() + timeoutMs;
  let last: RunDocument | undefined;
  while (Date.now() < deadline) {
    last = await store.getRun(runId);
    if (last !== undefined && statuses.includes(last.status)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `run ${runId} did not reach ${statuses.join('|')} within ${timeoutMs} ms; it is ${last?.status ?? 'absent'}:\n${JSON.stringify(last, null, 2)}\n${describe()}`,
  );
}

const silentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

async function listen(server: Server): Promise<Server> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
