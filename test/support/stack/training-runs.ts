/**
 * Training runs for crash tests on the local stack: one sample bundle trained
 * once, copied per run into the data directory without `ann/index` (so every
 * deploy builds the index, which is what makes `deploy.during-index-build`
 * reachable), and published as training-completed messages into the stack's
 * bus exactly as `recdeploy publish` does.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  buildTrainingCompletedV1,
  type DeploymentConfigV1,
  type DeploymentFinishedV1,
} from '@recdeploy/events';
import { revisionNameFor, runKey, serviceNameFor } from '@recdeploy/shared';
import { LocalEventBus } from '@recdeploy/shared/local';
import { decodeData, type PushReceiver } from '../push-receiver.js';
import { RECDEPLOY_BIN, REPO_ROOT } from './stack-process.js';

/** The stack's default SERVICE_PREFIX. */
const SERVICE_PREFIX = 'rec-';

export interface TrainingRun {
  readonly modelEndpointId: string;
  readonly trainingRunId: string;
  readonly runNumber: number;
  readonly runId: string;
  /** The serving service of the endpoint, and the revision this run deploys (deterministic names). */
  readonly service: string;
  readonly revision: string;
  /** The run's own copy of the bundle (holding ann/). */
  readonly artifactDir: string;
}

/** Trains the sample model into `outDir` with `recdeploy sample-model` (a child process). */
export async function trainSampleBundle(outDir: string, products: number): Promise<void> {
  const child = spawn(
    process.execPath,
    [RECDEPLOY_BIN, 'sample-model', '--out', outDir, '--products', String(products), '--json'],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`recdeploy sample-model exited ${String(code)}:\n${output}`);
  if (fs.existsSync(path.join(outDir, 'ann', 'index'))) {
    throw new Error(`${outDir}/ann/index exists: the sample bundle is expected without an index`);
  }
}

/** Names of a run of an endpoint (`trial-{n}`, run number n). */
export function trainingRun(
  dataDir: string,
  modelEndpointId: string,
  runNumber: number,
): TrainingRun {
  const trainingRunId = `trial-${runNumber}`;
  const service = serviceNameFor(modelEndpointId, SERVICE_PREFIX);
  return {
    modelEndpointId,
    trainingRunId,
    runNumber,
    runId: runKey({ modelEndpointId, trainingRunId }),
    service,
    revision: revisionNameFor(service, { modelEndpointId, trainingRunId, runNumber }),
    artifactDir: path.join(dataDir, 'models', modelEndpointId, trainingRunId),
  };
}

/** Copies the bundle's ann/ for the run, leaving out any stored index. */
export function copyBundleFor(run: TrainingRun, bundleDir: string): void {
  fs.rmSync(run.artifactDir, { recursive: true, force: true });
  fs.mkdirSync(run.artifactDir, { recursive: true });
  fs.cpSync(path.join(bundleDir, 'ann'), path.join(run.artifactDir, 'ann'), {
    recursive: true,
    filter: (source) => path.basename(source) !== 'index',
  });
}

/**
 * Publishes the run's training-completed message (blessed, hnsw) into the
 * stack's bus; `completedAt` backdates the training's end (default: now).
 */
export async function publishTrainingCompleted(
  dataDir: string,
  run: TrainingRun,
  overrides: {
    readonly completedAt?: Date;
    /** The message's deployment_config (what the run asks for, within the policy). */
    readonly deploymentConfig?: DeploymentConfigV1;
  } = {},
): Promise<string> {
  const message = buildTrainingCompletedV1({
    training_run_id: run.trainingRunId,
    model_endpoint_id: run.modelEndpointId,
    model_slug: 'crash-two-tower',
    run_number: run.runNumber,
    model_type: 'retrieval',
    retrieval_algorithm: 'hnsw',
    artifact_uri: pathToFileURL(run.artifactDir).href,
    is_blessed: true,
    metrics: { recall_at_100: 0.8 },
    completed_at: (overrides.completedAt ?? new Date()).toISOString(),
    ...(overrides.deploymentConfig === undefined
      ? {}
      : { deployment_config: overrides.deploymentConfig }),
  });
  const bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db') });
  try {
    return await bus.publish('training-completed', {
      data: message,
      attributes: { origin: 'crash-points-test', run_id: run.runId },
    });
  } finally {
    await bus.close();
  }
}

/** The subscription through which the test receives deployment-finished, as another system would. */
export const FINISHED_SUBSCRIPTION = 'crash-test-deployment-finished';

/**
 * Subscribes `receiver` to the stack's deployment-finished topic (the stack
 * must have started once, so the topic exists); the stack's bus pushes to it.
 */
export async function subscribeToDeploymentFinished(
  dataDir: string,
  receiver: PushReceiver,
): Promise<void> {
  const bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db') });
  try {
    bus.createSubscription({
      name: FINISHED_SUBSCRIPTION,
      topic: 'deployment-finished',
      pushEndpoint: receiver.url('/deployment-finished'),
      ackDeadlineMs: 10_000,
      minBackoffMs: 100,
      maxBackoffMs: 1_000,
      maxDeliveryAttempts: 1_000,
    });
  } finally {
    await bus.close();
  }
}

/** The deployment-finished messages received so far for a run. */
export function finishedMessagesOf(receiver: PushReceiver, runId: string): DeploymentFinishedV1[] {
  return receiver
    .on('/deployment-finished')
    .map((push) => decodeData(push) as DeploymentFinishedV1)
    .filter((message) => message.run_id === runId);
}
