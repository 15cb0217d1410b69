/**
 * What `recdeploy retry` and `recdeploy deploy` share: an operator's request
 * on one run goes through the use cases of shared/usecases/operator-requests.ts,
 * which record it in the run store and then publish the hand-off of the step
 * that starts. This module checks first that the message will be delivered,
 * maps the store's refusals to exit code 3, and prints what happened.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PermanentError,
  type ErrorCode,
  type Logger,
  type RunDocument,
  type RunStore,
} from '@recdeploy/shared';
import {
  loadChainConfig,
  type ChainConfig,
  type OperatorDeps,
  type OperatorOutcome,
} from '@recdeploy/shared/chain';
import { createAdapters, localDataFiles } from '@recdeploy/shared/wiring';
import {
  cliLogger,
  describeRunStore,
  loadBackendConfig,
  whereLooked,
  type BackendFlags,
} from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { printJson } from '../output/json.js';
import { Refusal } from '../output/refusal.js';
import { describeOperatorOutcome, operatorReport } from '../output/operator-outcome.js';
import { requireLocalDelivery, type LocalDelivery } from './local-delivery.js';
import { recordingBus } from './published-messages.js';
import { requireRun } from './run-lookup.js';

export interface OperatorFlags extends BackendFlags {
  queue?: boolean;
  json?: boolean;
}

export interface OperatorRequest {
  /** The command's name: `retry` or `deploy`. */
  readonly command: 'retry' | 'deploy';
  /** Checks the arguments against the run before anything is written (a usage error ends here). */
  readonly check?: (run: RunDocument) => void;
  /** Records the request and publishes the hand-off (a use case of operator-requests.ts). */
  readonly send: (deps: OperatorDeps, requestedBy: string) => Promise<OperatorOutcome>;
}

/** The store's answers that mean "not in this state": nothing was done (exit code 3). */
const REFUSALS: readonly ErrorCode[] = [
  'RUN.NOT_RETRYABLE',
  'RUN.NOT_DEPLOYABLE',
  'RUN.NOT_BLESSED',
];

/** Runs `request` on `runId` and prints the outcome; throws what main turns into exit codes. */
export async function runOperatorRequest(
  io: CliIo,
  runId: string,
  flags: OperatorFlags,
  request: OperatorRequest,
): Promise<void> {
  const config = loadBackendConfig(io, flags, loadChainConfig);
  const logger = cliLogger(io);
  const delivery = await checkDelivery(config, runId, flags, request.command);
  const adapters = await createAdapters(config.runtime, logger);
  const recording = recordingBus(adapters.eventBus);
  try {
    const store = adapters.runStore;
    const before = await requireRun(store, runId, describeRunStore(config.runtime));
    request.check?.(before);
    const deps: OperatorDeps = { config, logger, runStore: store, eventBus: recording.bus };
    const outcome = await request
      .send(deps, requestedBy(request.command))
      .catch((error: unknown) => explainFailure(error, store, before, logger));
    const context = {
      command: request.command,
      before,
      outcome,
      published: recording.published,
      where:
        config.runtime.backend === 'local'
          ? `the local bus ${delivery?.busFile ?? '?'}`
          : `Pub/Sub project ${config.runtime.projectId}`,
      queued: delivery !== undefined && delivery.stack === undefined,
    };
    if (flags.json) printJson(io, operatorReport(context));
    else for (const line of describeOperatorOutcome(context)) io.out(line);
    io.err(`follow it with: recdeploy status ${runId} --watch`);
    if (context.queued) {
      io.err('no local stack is running: the message is delivered when one starts');
    }
  } finally {
    await adapters.close();
  }
}

/**
 * Locally: the run store must exist (a missing one means a wrong --data-dir,
 * and opening it would create an empty one), and something must deliver the
 * hand-off. Checked before anything is written, so a refusal changes nothing.
 */
async function checkDelivery(
  config: ChainConfig,
  runId: string,
  flags: OperatorFlags,
  command: string,
): Promise<LocalDelivery | undefined> {
  const runtime = config.runtime;
  if (runtime.backend !== 'local') return undefined;
  const runs = path.resolve(localDataFiles(runtime.dataDir).runStore);
  if (!fs.existsSync(runs)) {
    throw new Error(`run ${runId} not found: ${runs} does not exist; ${whereLooked(flags)}`);
  }
  const topics = runtime.topics;
  return requireLocalDelivery(
    runtime.dataDir,
    [topics.trainingCompleted, topics.modelRegistered, topics.modelDeployed],
    { queue: flags.queue === true, action: `${command} it` },
  );
}

/**
 * A refusal of the store becomes exit code 3 with its message. Any other
 * failure may have come after the store recorded the request (the publish
 * failed): then the run waits for its step, and the reconciler hands it on.
 */
async function explainFailure(
  error: unknown,
  store: RunStore,
  before: RunDocument,
  logger: Logger,
): Promise<never> {
  if (error instanceof PermanentError && REFUSALS.includes(error.code)) {
    throw new Refusal(error.message);
  }
  const after = await store.getRun(before.runId).catch(() => undefined);
  if (after !== undefined && after.updatedAt !== before.updatedAt) {
    logger.error(
      `run ${before.runId} was reopened (now ${after.status}) but its message was not published; the stack's reconciler hands it on`,
    );
  }
  throw error;
}

/** Who asked, for the run's history: "alice via recdeploy retry". */
function requestedBy(command: string): string {
  let user = process.env.USER ?? 'someone';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): keep $USER.
  }
  return `${user} via recdeploy ${command}`;
}
