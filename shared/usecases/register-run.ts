/**
 * The register step: a training-completed delivery → a run document, a model
 * version in the registry, and a model-registered hand-off (or a recorded
 * skip when the blessing policy says not to deploy).
 *
 * validate → create the run (idempotent) → claim the step → register →
 * complete → publish. Invalid input is acknowledged and recorded; passing
 * failures are thrown so the bus redelivers.
 */
import {
  parseTrainingCompleted,
  type PipelineJobToResolve,
  type TrainingCompletedV1,
} from '@recdeploy/events';
import { PermanentError, RecdeployError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { planRegistryLabels } from '../domain/registry-labels.js';
import { chooseRuntime } from '../domain/routing-policy.js';
import { runKey, type RunDocument } from '../domain/run-document.js';
import { readBundleFacts } from './bundle-facts.js';
import type { ChainDeps } from './chain-deps.js';
import { publishDeploymentFinished, publishModelRegistered } from './chain-events.js';
import { recordRejection, sourceOf } from './rejected-events.js';
import { runIdentityOf } from './run-identity.js';
import { registryContainer } from './serving-container.js';
import { republishHandOff } from './hand-off-publishing.js';
import {
  claimStep,
  completeAttempt,
  failAttempt,
  withHeartbeat,
  type StepAttempt,
} from './step-attempt.js';

export type RegisterDeps = Pick<
  ChainDeps,
  | 'config'
  | 'logger'
  | 'runStore'
  | 'eventBus'
  | 'registry'
  | 'artifacts'
  | 'pipelineJobs'
  | 'instanceId'
>;

/** Handles one delivery from the training-completed topic. Resolves = acknowledge. */
export async function handleTrainingCompleted(
  deps: RegisterDeps,
  cloudEvent: unknown,
): Promise<void> {
  const parsed = parseTrainingCompleted(cloudEvent);
  const where = sourceOf(cloudEvent);
  if (!parsed.ok) return recordRejection(deps, parsed.rejection, where);
  const { delivery } = parsed.value;
  const logger = deps.logger.child({ eventId: delivery.eventId });
  const message =
    parsed.value.kind === 'training_completed'
      ? parsed.value.message
      : await resolvePipelineJob({ ...deps, logger }, parsed.value, delivery.eventId, where);
  if (message === undefined) return;
  await registerRun({ ...deps, logger }, message, delivery.eventId);
}

/** Registers the run of a valid training-completed message. */
export async function registerRun(
  deps: RegisterDeps,
  message: TrainingCompletedV1,
  eventId: string,
): Promise<void> {
  const identity = runIdentityOf(message);
  const runId = runKey(identity);
  const logger = deps.logger.child({ runId });
  const created = await deps.runStore.createRun(identity, { eventId });
  if (created.kind === 'exists' && created.run.artifactUri !== identity.artifactUri) {
    // Same run id, another model: the stored run keeps its artifact. Recorded
    // where operators look (the dashboard's rejected events), with what to do.
    await recordExistingRun(deps, created.run, identity.artifactUri, eventId);
  }
  const claim = await claimStep(deps.runStore, {
    runId,
    step: 'register',
    eventId,
    instanceId: deps.instanceId,
    leaseMs: deps.config.leases.ttlMs,
  });
  if (claim.kind !== 'claimed') {
    return resumeAfterDuplicate({ ...deps, logger }, claim.run, eventId);
  }

  if (deps.config.blessingPolicy === 'blessed-only' && !identity.isBlessed) {
    const run = await failAttempt(
      deps.runStore,
      logger,
      claim.attempt,
      notBlessed('skipped before registering'),
      {
        endAs: 'skipped',
      },
    );
    return publishDeploymentFinished(deps, run);
  }

  const registered = await withHeartbeat(
    { ...deps, leases: deps.config.leases },
    claim.attempt,
    () => register({ ...deps, logger }, claim.attempt),
  );
  if (registered === undefined) return;
  const deployable = identity.isBlessed || deps.config.blessingPolicy === 'deploy-all';
  if (!deployable) {
    const skipped = await deps.runStore.transition({
      runId,
      to: 'skipped',
      reason: `RUN.NOT_BLESSED: not blessed by the Evaluator; registered as ${registered.registry?.model ?? '?'} version ${registered.registry?.version ?? '?'} but, by BLESSING_POLICY ${deps.config.blessingPolicy}, not deployed`,
      eventId,
    });
    return publishDeploymentFinished(deps, skipped.run);
  }
  await failpoint('register.after-complete');
  await publishModelRegistered(deps, registered);
}

/**
 * A training-completed for a run that exists, with another artifact: nothing
 * of it is used (the run id is taken), so say what happened to the run and
 * which command serves the new artifact.
 */
async function recordExistingRun(
  deps: RegisterDeps,
  run: RunDocument,
  received: string,
  eventId: string,
): Promise<void> {
  const next =
    run.status === 'failed' && run.steps.register.status === 'failed'
      ? `to retry the run with it: recdeploy retry ${run.runId} --artifact-uri ${received}`
      : 'to deploy it, publish it as a new training run (another training_run_id)';
  const reason = `run ${run.runId} already exists (${run.status}) with artifact ${run.artifactUri}; this message's artifact ${received} was not used; ${next}`;
  deps.logger.warn('training-completed for an existing run with another artifact: not used', {
    stored: run.artifactUri,
    received,
  });
  await deps.runStore.recordRejectedEvent({
    eventId,
    code: 'EVENT.RUN_EXISTS',
    reason,
    receivedAt: new Date().toISOString(),
  });
}

/** Returns the run after a completed register step, or undefined when the run failed (already announced). */
async function register(
  deps: RegisterDeps,
  attempt: StepAttempt,
): Promise<RunDocument | undefined> {
  const run = attempt.run;
  try {
    const facts = await readBundleFacts(deps.artifacts, run.artifactUri);
    const choice = chooseRuntime(run, facts);
    const { labels, droppedMetrics } = planRegistryLabels({
      runId: run.runId,
      trainingRunId: run.trainingRunId,
      modelEndpointId: run.modelEndpointId,
      modelType: run.modelType,
      retrievalAlgorithm: run.retrievalAlgorithm,
      isBlessed: run.isBlessed,
      runNumber: run.runNumber,
      metrics: run.metrics,
      runtime: choice.runtime,
    });
    if (droppedMetrics.length > 0) {
      deps.logger.warn('metrics left out of the registry labels (label limit or name clash)', {
        droppedMetrics,
      });
    }
    await failpoint('register.before-registry');
    const registered = await deps.registry.registerModel({
      runId: run.runId,
      modelEndpointId: run.modelEndpointId,
      trainingRunId: run.trainingRunId,
      displayName: run.modelSlug,
      description: `${run.modelType} model of endpoint ${run.modelEndpointId}, training run ${run.trainingRunId}`,
      artifactUri: run.artifactUri,
      labels,
      container: registryContainer(deps.config, run, choice),
    });
    deps.logger.info('registered', { ...registered });
    await failpoint('register.after-registry');
    return await completeAttempt(deps.runStore, attempt, {
      registry: { model: registered.model, version: registered.version },
    });
  } catch (error) {
    const failed = await failAttempt(deps.runStore, deps.logger, attempt, error);
    await publishDeploymentFinished(deps, failed);
    return undefined;
  }
}

/**
 * A duplicate delivery found the step finished. If the hand-off may have been
 * lost (the process died between committing and publishing), publish it
 * again, at most once per window however many duplicates arrive; the
 * reconciler covers a hand-off lost inside the window.
 */
async function resumeAfterDuplicate(
  deps: RegisterDeps,
  run: RunDocument,
  eventId: string,
): Promise<void> {
  if (run.status !== 'registered') {
    deps.logger.info('duplicate delivery: nothing to do', { status: run.status });
    return;
  }
  const claim = await republishHandOff(deps, {
    runId: run.runId,
    step: 'deploy',
    reason:
      'model-registered published again: a duplicate training-completed found deploy not started',
    eventId,
  });
  deps.logger.info('register already done', { handOff: claim.kind });
}

/** A Vertex pipeline job reported by a log sink → its training-completed message, or undefined when there is none. */
async function resolvePipelineJob(
  deps: RegisterDeps,
  job: PipelineJobToResolve,
  eventId: string,
  where: ReturnType<typeof sourceOf>,
): Promise<TrainingCompletedV1 | undefined> {
  const reject = (code: 'EVENT.INVALID' | 'EVENT.IGNORED', reason: string) =>
    recordRejection(deps, { code, reason, eventId, idempotencyKey: job.idempotencyKey }, where);
  if (deps.pipelineJobs === undefined) {
    await reject(
      'EVENT.INVALID',
      `pipeline job ${job.pipelineJobId}: Vertex AI pipeline jobs can only be resolved with RECDEPLOY_BACKEND=gcp`,
    );
    return undefined;
  }
  const name = pipelineJobName(deps, job);
  try {
    const resolved = await deps.pipelineJobs.resolve(name);
    if (resolved.kind === 'pushed') return resolved.message;
    await reject('EVENT.IGNORED', `pipeline job ${name}: ${resolved.reason}`);
    return undefined;
  } catch (error) {
    if (error instanceof RecdeployError && !error.retryable) {
      await reject('EVENT.INVALID', `pipeline job ${name}: ${error.code}: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}

/** The job's resource name; project and region default to the deployment's own. */
function pipelineJobName(deps: RegisterDeps, job: PipelineJobToResolve): string {
  if (job.pipelineJobName !== undefined) return job.pipelineJobName;
  const runtime = deps.config.runtime;
  const project = job.project ?? (runtime.backend === 'gcp' ? runtime.projectId : 'local');
  const location = job.location ?? runtime.region;
  return `projects/${project}/locations/${location}/pipelineJobs/${job.pipelineJobId}`;
}

function notBlessed(detail: string): PermanentError {
  return new PermanentError(
    'RUN.NOT_BLESSED',
    `not blessed by the Evaluator; ${detail} (BLESSING_POLICY blessed-only)`,
  );
}
