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
import {
  createCloudLogger,
  logFileDestination,
  runKey,
  type RunDocument,
  type RunStore,
} from '@recdeploy/shared';
import { loadChainConfig } from '@recdeploy/shared/chain';
import { chainDepsFor, closeChainDeps } from '@recdeploy/shared/chain-wiring';
import type { Narrator } from '../output/phase-narrator.js';
import { startDashboardProcess, type DashboardProcess } from './dashboard-process.js';
import { watchRunEnds } from './run-summaries.js';
import { deploySample, SAMPLE_RUN } from './sample-run.js';
import { longestLeaseMs, startBus } from './stack-bus.js';
import { acquireStackLock } from './stack-lock.js';
import { routeStackLogs, stackLogFile } from './stack-log.js';
import { startCanaryTicker, startReconciler } from './stack-reconciler.js';
import { removeStackState, writeStackHolder, writeStackState } from './stack-state.js';

export { initialSampleMessage, SAMPLE_RUN } from './sample-run.js';

export interface LocalStackOptions {
  /** RECDEPLOY_DATA_DIR: where every file of the stack lives. */
  readonly dataDir: string;
  /** What people read (stderr): phases, progress, short warnings. */
  readonly narrator: Narrator;
  /** Lowest level written to the log file (`{dataDir}/logs/stack.log`). */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Dashboard port; 0 picks a free one, undefined the port this data
   * directory used last (else a fixed default).
   */
  readonly dashboardPort?: number;
  /** Do not create or deploy the sample model (start the stack only). */
  readonly noSample?: boolean;
  /** Catalogue size of the sample model, when it has to be created. */
  readonly products?: number;
  /** Aborted when a stop was asked for during start-up: what started is stopped, and start rejects. */
  readonly signal?: AbortSignal;
}

export interface RunningStack {
  readonly dataDir: string;
  readonly functionUrls: Readonly<Record<'register' | 'deploy' | 'verify', string>>;
  readonly dashboardUrl: string;
  readonly runStore: RunStore;
  /** The JSON-lines log of the functions, adapters, reconciler and bus. */
  readonly logFile: string;
  /** The sample run once it ended (live, failed, skipped), when the sample is deployed. */
  readonly sampleRun?: RunDocument;
  /**
   * Stops everything the stack started (functions, bus, routers, revisions,
   * dashboard), once: a second call returns the first one's promise.
   */
  stop(): Promise<void>;
}

const FUNCTIONS = ['register', 'deploy', 'verify'] as const;

export async function startLocalStack(options: LocalStackOptions): Promise<RunningStack> {
  const dataDir = path.resolve(options.dataDir);
  const { narrator, signal } = options;
  const logFile = stackLogFile(dataDir);
  // The functions read their configuration from the environment when they load.
  Object.assign(process.env, {
    RECDEPLOY_BACKEND: 'local',
    RECDEPLOY_DATA_DIR: dataDir,
    LOG_LEVEL: options.logLevel ?? 'info',
    // The terminal is for people: JSON lines go to the log file (`recdeploy logs`).
    LOG_FILE: logFile,
  });
  process.env.ARTIFACT_ROOTS ??= dataDir;
  // Where revisions keep their replay samples if the operator turns sampling
  // on (REPLAY_SAMPLE_SIZE); inside the data directory, so verify may read them.
  process.env.REPLAY_SAMPLE_BASE_URI ??= path.join(dataDir, 'replay');
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
  const logs = routeStackLogs(dataDir, (line) => narrator.line(line));
  const startedAt = new Date().toISOString();
  const stoppers: (() => Promise<unknown>)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // Parts going away complain about each other; that is for the file, not the terminal.
      logs.mute();
      for (const stopOne of stoppers.reverse()) await stopOne().catch(() => undefined);
      removeStackState(dataDir);
      logs.restore();
      // Last: a new stack may start only once this one has let go of everything.
      lock.release();
    })());
  try {
    writeStackHolder(dataDir, { pid: process.pid, startedAt });
    // Eagerly, so the serving platform brings back the revisions the store recorded.
    const deps = await chainDepsFor(config, logger);
    stoppers.push(closeChainDeps);
    signal?.throwIfAborted();
    const functionUrls = await startFunctions(stoppers);
    const bus = startBus(config, dataDir, functionUrls, logger, longestLeaseMs(config));
    stoppers.push(() => bus.close());
    const progress = (line: string): void => narrator.line(line);
    // After the bus, so what it re-drives is delivered; stopped before it.
    const reconciler = startReconciler(
      { ...deps, logger: logger.child({ service: 'reconciler' }) },
      { intervalMs: config.leases.ttlMs, progress },
    );
    stoppers.push(() => reconciler.stop());
    const canaries = startCanaryTicker(
      { ...deps, logger: logger.child({ service: 'canary' }) },
      { intervalMs: config.canaryTickMs, progress },
    );
    stoppers.push(() => canaries.stop());
    signal?.throwIfAborted();
    const dashboard: DashboardProcess = await startDashboardProcess({
      dataDir,
      ...(options.dashboardPort === undefined ? {} : { port: options.dashboardPort }),
      logLevel: options.logLevel ?? 'info',
      // Into the stack's log file, like every other log line of the stack.
      onLogLine: (line) => logFileDestination(stackLogFile(dataDir)).write(`${line}\n`),
    });
    stoppers.push(() => dashboard.stop());
    writeStackState(dataDir, {
      pid: process.pid,
      startedAt,
      functions: functionUrls,
      dashboardUrl: dashboard.url,
    });
    narrator.line(`functions: ${FUNCTIONS.map((f) => `${f} ${functionUrls[f]}`).join(', ')}`);
    if (dashboard.fallbackFrom !== undefined) {
      narrator.line(`dashboard port ${dashboard.fallbackFrom} is taken; using ${dashboard.port}`);
    }
    narrator.line(`dashboard: ${dashboard.url}`);
    narrator.line(`logs: ${logFile} (recdeploy logs)`);
    // Every run that ends from now on gets its line; the sample run is told by its phases.
    const summaries = watchRunEnds(deps.runStore, (line) => narrator.line(line));
    stoppers.push(() => Promise.resolve(summaries.stop()));
    const base = {
      dataDir,
      functionUrls,
      dashboardUrl: dashboard.url,
      runStore: deps.runStore,
      logFile,
      stop,
    };
    signal?.throwIfAborted();
    if (options.noSample) return base;
    summaries.hold(runKey(SAMPLE_RUN));
    const sampleRun = await deploySample(config, deps.runStore, bus, {
      dataDir,
      narrator,
      ...(options.products === undefined ? {} : { products: options.products }),
      ...(signal === undefined ? {} : { signal }),
    });
    summaries.release(sampleRun);
    return { ...base, sampleRun };
  } catch (error) {
    narrator.close();
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
    // The framework's own server with the functions' HTTP handlers (they
    // decode the CloudEvent themselves; 204/500, 405/415 for stray requests),
    // listening on a loopback port instead of $PORT.
    const server = getTestServer(name);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stoppers.push(() => closeServer(server));
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }
  return urls as Record<(typeof FUNCTIONS)[number], string>;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
