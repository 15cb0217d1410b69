/**
 * The deployment chain on the cloud adapters (RECDEPLOY_BACKEND=gcp), end to
 * end on this machine: the rehearsal of docs/local.md ("The cloud path,
 * rehearsed on one machine").
 *
 * - the gcloud Firestore and Pub/Sub emulators (FIRESTORE_EMULATOR_HOST,
 *   PUBSUB_EMULATOR_HOST: scripts/test.sh starts them), in a project of this
 *   harness's own (`rehearsal-xxxxxx`): both emulators keep projects apart,
 *   so runs of different test processes never meet;
 * - in this process, over real gRPC/HTTP: the Vertex AI fake (ModelService,
 *   PipelineService), the Cloud Storage JSON fake (bucket `bucket`), the
 *   Monitoring fake, and the Cloud Run simulator, whose revisions are real
 *   ann-serving processes behind loopback service and tag URLs, with a
 *   metadata server minting ID tokens (cloud-run-simulator.ts);
 * - the three functions, each in its own process under the functions-
 *   framework (function-processes.ts), configured only by environment, as
 *   deployed, plus the emulator endpoints (shared/config/emulator-endpoints.ts);
 * - push subscriptions from the Pub/Sub emulator to the functions, through
 *   EventarcFront (pubsub-push.ts: what Eventarc does to a message).
 *
 * One harness per process, started on first use and shared by the scenarios.
 */
import { randomBytes } from 'node:crypto';
import type { TrainingCompletedV1 } from '@recdeploy/events';
import { RecordingLogger, type RunStore } from '@recdeploy/shared';
import { RUN_ID_HEADER } from '@recdeploy/shared/ann';
import { loadChainConfig } from '@recdeploy/shared/chain';
import { FirestoreRunStore, PubSubEventBus } from '@recdeploy/shared/gcp';
import { REVISION_HEADER } from '@recdeploy/shared/local';
import type { ChainTopic, ChainUnderTest } from '../chain/chain-under-test.js';
import { waitForRunIn } from '../chain/local-chain.js';
import { GcsJsonFake } from '../fakes/gcs-json-fake.js';
import { MonitoringFake } from '../fakes/monitoring-fake.js';
import { VertexFake } from '../fakes/vertex-fake.js';
import { startCloudRunSimulator, type CloudRunSimulator } from './cloud-run-simulator.js';
import {
  FunctionProcesses,
  type FunctionProcess,
  type FunctionName,
} from './function-processes.js';
import { GcsEmulatorHost } from './gcs-emulator-host.js';
import { EventarcFront, createPushTopology } from './pubsub-push.js';
import { readStoredFile, uploadBundle } from './rehearsal-artifacts.js';

export const REHEARSAL_REGION = 'us-central1';
export const REHEARSAL_BUCKET = 'bucket';

export interface RehearsalChain extends ChainUnderTest {
  readonly projectId: string;
  readonly vertex: VertexFake;
  readonly gcs: GcsJsonFake;
  readonly cloudRun: CloudRunSimulator;
  readonly functions: Readonly<Record<FunctionName, FunctionProcess>>;
  readonly front: EventarcFront;
}

/** Why the cloud mode cannot run here, or undefined when it can. */
export function rehearsalUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = ['FIRESTORE_EMULATOR_HOST', 'PUBSUB_EMULATOR_HOST'].filter((name) => !env[name]);
  return missing.length === 0
    ? undefined
    : `${missing.join(' and ')} unset: start the gcloud emulators (npm test does, when gcloud and java are installed)`;
}

let started: Promise<RehearsalChain> | undefined;

/** The process's rehearsal chain, started on first use. */
export function rehearsalChain(): Promise<RehearsalChain> {
  started ??= startRehearsalChain();
  return started;
}

/** The rehearsal chain if one was started (to stop it at the end), else undefined. */
export function rehearsalChainIfStarted(): Promise<RehearsalChain> | undefined {
  return started;
}

/** Suites declared to use the harness and not yet done with it. */
let holders = 0;

/**
 * Declares a suite that uses the harness: call it while mocha loads the
 * files (every file loads before any test runs), with releaseRehearsalChain
 * as that suite's `after` hook.
 */
export function holdRehearsalChain(): void {
  holders += 1;
}

/**
 * A suite is done with the harness: the last one stops it, so its functions
 * and revisions do not idle through the test files that run after it (a
 * later user would start a new one).
 */
export async function releaseRehearsalChain(): Promise<void> {
  holders = Math.max(0, holders - 1);
  if (holders > 0 || started === undefined) return;
  const chain = started;
  started = undefined;
  await chain.then((c) => c.stop()).catch(() => undefined);
}

const FUNCTIONS: readonly FunctionName[] = ['register', 'deploy', 'verify'];

async function startRehearsalChain(): Promise<RehearsalChain> {
  const unavailable = rehearsalUnavailable();
  if (unavailable !== undefined) throw new Error(`no cloud rehearsal: ${unavailable}`);
  const projectId = `rehearsal-${randomBytes(3).toString('hex')}`;
  const vertex = new VertexFake({ project: projectId, location: REHEARSAL_REGION });
  const gcs = new GcsJsonFake([REHEARSAL_BUCKET]);
  const monitoring = new MonitoringFake({ project: projectId });
  const [vertexPort, gcsEndpoint, monitoringPort] = await Promise.all([
    vertex.start(),
    gcs.start(),
    monitoring.start(),
  ]);
  const storage = new GcsEmulatorHost(gcsEndpoint);
  const storageHost = await storage.start();
  const cloudRun = await startCloudRunSimulator({
    projectId,
    region: REHEARSAL_REGION,
    extraEnv: { STORAGE_EMULATOR_HOST: storageHost },
    // Startup probes every 2 s instead of 10 s: a revision is found ready sooner.
    probeScale: 0.2,
  });
  const env: Record<string, string> = {
    RECDEPLOY_BACKEND: 'gcp',
    GOOGLE_CLOUD_PROJECT: projectId,
    REGION: REHEARSAL_REGION,
    ARTIFACT_ROOTS: `gs://${REHEARSAL_BUCKET}`,
    FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST ?? '',
    PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST ?? '',
    STORAGE_EMULATOR_HOST: storageHost,
    VERTEX_EMULATOR_HOST: `127.0.0.1:${vertexPort}`,
    CLOUD_RUN_EMULATOR_HOST: `${cloudRun.apiEndpoint}:${cloudRun.port}`,
    MONITORING_EMULATOR_HOST: `127.0.0.1:${monitoringPort}`,
    ...cloudRun.metadataEnv,
    LOG_LEVEL: process.env.CHAIN_LOG_LEVEL ?? 'error',
    LOG_STREAM: 'stderr',
  };
  const config = loadChainConfig(env);
  // The index-build job exists, as deploy/setup.sh creates it in a project.
  cloudRun.fake.registerJob(
    `projects/${projectId}/locations/${REHEARSAL_REGION}/jobs/${config.indexBuild.job}`,
  );
  const front = new EventarcFront(projectId);
  await front.start();
  const processes = new FunctionProcesses();
  // Their own process groups outlive this process unless killed: also when mocha exits early.
  process.once('exit', () => processes.stop());
  const functions = await processes.start(FUNCTIONS, env).catch((error: unknown) => {
    processes.stop();
    throw error;
  });
  const topics = config.runtime.topics;
  const pubsub = await createPushTopology(projectId, front, [
    { topic: topics.trainingCompleted, pushTo: functions.register.url },
    { topic: topics.modelRegistered, pushTo: functions.deploy.url },
    { topic: topics.modelDeployed, pushTo: functions.verify.url },
    { topic: topics.deploymentFinished },
  ]);
  const bus = new PubSubEventBus({ projectId, pubsub });
  const runs: RunStore = new FirestoreRunStore({
    projectId,
    collection: config.runtime.collection,
    logger: new RecordingLogger(),
  });
  const topicOf: Readonly<Record<ChainTopic, string>> = {
    'training-completed': topics.trainingCompleted,
    'model-registered': topics.modelRegistered,
    'model-deployed': topics.modelDeployed,
  };
  const published: string[] = [];
  const publish = async (topic: ChainTopic, data: unknown, attributes = {}) => {
    const id = await bus.publish(topicOf[topic], { data, attributes });
    published.push(id);
    return id;
  };

  return {
    mode: 'cloud',
    projectId,
    config,
    runs,
    bus,
    vertex,
    gcs,
    cloudRun,
    functions,
    front,
    // Under the project's own prefix: nothing of an earlier harness can be taken for it.
    addBundle: (sourceDir, name) =>
      uploadBundle(gcs, REHEARSAL_BUCKET, sourceDir, `${projectId}/${name}`),
    readArtifact: (uri, relativePath) => Promise.resolve(readStoredFile(gcs, uri, relativePath)),
    publishTrainingCompleted: (message: TrainingCompletedV1) =>
      publish('training-completed', message, { origin: 'test' }),
    publish: (topic, data) => publish(topic, data),
    waitForRun: (runId, statuses, timeoutMs = 90_000) =>
      waitForRunIn(runs, runId, statuses, timeoutMs, () => describeFunctions(functions, front)),
    waitUntilDelivered: () => waitUntilAnswered(front, published),
    modelVersions: (model) => Promise.resolve(vertex.versionsOf(model)),
    callerHeaders: (url) => idTokenHeaders(cloudRun.metadataHost, url),
    answeringRevision: (url, headers) => answeringRevision(runs, url, headers),
    async stop() {
      processes.stop();
      await Promise.allSettled([bus.close(), runs.close(), pubsub.close()]);
      await Promise.allSettled([
        cloudRun.close(),
        front.stop(),
        storage.stop(),
        gcs.stop(),
        vertex.stop(),
        monitoring.stop(),
      ]);
    },
  };
}

/** Waits until every message the harness published was acknowledged and the pushes went quiet. */
async function waitUntilAnswered(
  front: EventarcFront,
  published: readonly string[],
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(published.every((id) => front.acked.has(id)) && front.quiet(1_000))) {
    if (Date.now() > deadline) {
      const waiting = published.filter((id) => !front.acked.has(id));
      throw new Error(
        `pushes not all answered within 60 s: unacknowledged ${waiting.join(', ') || 'none'}; last failures ${JSON.stringify(front.failures.slice(-5))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Which revision answered at a service URL. Cloud Run names none in its
 * answers; ann-serving sends back its run's training run id (X-Recdeploy-Run-Id,
 * from TRAINING_RUN_ID), and a run has one revision: the one recorded in the
 * run that served on this URL with that training run id.
 */
async function answeringRevision(
  runs: RunStore,
  url: string,
  headers: Headers,
): Promise<string | null> {
  const named = headers.get(REVISION_HEADER);
  if (named !== null) return named;
  const trainingRunId = headers.get(RUN_ID_HEADER);
  if (trainingRunId === null) return null;
  const served = (await runs.listRuns({ limit: 500 })).filter(
    (run) => run.serving?.url === url && run.trainingRunId === trainingRunId,
  );
  return served.length === 1 ? (served[0]?.serving?.revision ?? null) : null;
}

/** An ID token for `audience` from the simulator's metadata server, as the verify step gets one. */
async function idTokenHeaders(
  metadataHost: string,
  audience: string,
): Promise<Record<string, string>> {
  const url = new URL(
    `http://${metadataHost}/computeMetadata/v1/instance/service-accounts/default/identity`,
  );
  url.searchParams.set('audience', audience);
  url.searchParams.set('format', 'full');
  const response = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' } });
  if (!response.ok) throw new Error(`metadata server: HTTP ${response.status} for ${url.href}`);
  return { Authorization: `Bearer ${await response.text()}` };
}

/** The functions' last log lines and the failed pushes, for a run that did not end in time. */
function describeFunctions(
  functions: Readonly<Record<FunctionName, FunctionProcess>>,
  front: EventarcFront,
): string {
  const logs = Object.values(functions).map(
    (f) => `--- ${f.name} (stderr, last lines)\n${f.stderr.slice(-15).join('\n')}`,
  );
  return [`failed pushes: ${JSON.stringify(front.failures.slice(-10))}`, ...logs].join('\n');
}
