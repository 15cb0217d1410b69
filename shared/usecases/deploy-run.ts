/**
 * The deploy step: model-registered → (per-service lease, supersession check,
 * routing, ANN index) → a new revision with 0% traffic and its tag URL →
 * model-deployed.
 *
 * The ANN index is built once and stored next to the bundle: here when the
 * build fits the function's time limit, otherwise by an index build job whose
 * completion publishes model-registered again, so this step runs again and
 * finds the index.
 */
import { parseModelRegistered } from '@recdeploy/events';
import { PermanentError, TransientError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { checkDeploymentPolicy } from '../domain/deployment-policy.js';
import { resolveRolloutPlan } from '../domain/rollout-plan.js';
import { chooseRuntime, type RuntimeChoice } from '../domain/routing-policy.js';
import type { ServingRef } from '../domain/run-document.js';
import { findSupersedingRun } from '../domain/run-supersession.js';
import { readBundleFacts } from './bundle-facts.js';
import type { ChainDeps } from './chain-deps.js';
import { publishDeploymentFinished, publishModelDeployed } from './chain-events.js';
import { revisionSpecFor, serviceFor } from './serving-container.js';
import { claimStepOfHandOff } from './hand-off.js';
import { republishHandOff } from './hand-off-publishing.js';
import {
  completeAttempt,
  failAttempt,
  withHeartbeat,
  type Heartbeat,
  type StepAttempt,
} from './step-attempt.js';

export type DeployDeps = Pick<
  ChainDeps,
  | 'config'
  | 'logger'
  | 'runStore'
  | 'eventBus'
  | 'platform'
  | 'artifacts'
  | 'indexBuilds'
  | 'indexes'
  | 'instanceId'
>;

/** Handles one delivery from the model-registered topic. Resolves = acknowledge. */
export async function handleModelRegistered(deps: DeployDeps, cloudEvent: unknown): Promise<void> {
  const handOff = await claimStepOfHandOff(
    deps,
    cloudEvent,
    parseModelRegistered(cloudEvent),
    'deploy',
    'model-registered',
  );
  if (handOff === undefined) return;
  const { claim, logger } = handOff;
  if (claim.kind !== 'claimed') {
    if (claim.run.status === 'deployed') {
      // The hand-off may have been lost; at most once per window, whoever asks.
      const again = await republishHandOff(deps, {
        runId: claim.run.runId,
        step: 'verify',
        reason:
          'model-deployed published again: a duplicate model-registered found verify not started',
      });
      logger.info('deploy already done', { handOff: again.kind });
    }
    return;
  }
  const attempt = claim.attempt;
  await withHeartbeat({ ...deps, leases: deps.config.leases }, attempt, (heartbeat) =>
    deploy({ ...deps, logger }, attempt, heartbeat),
  );
}

async function deploy(deps: DeployDeps, attempt: StepAttempt, heartbeat: Heartbeat): Promise<void> {
  const run = attempt.run;
  const service = serviceFor(deps.config, run);
  let holdsLease = false;
  try {
    const lease = await deps.runStore.acquireServiceLease({
      service,
      runId: run.runId,
      ttlMs: deps.config.leases.ttlMs,
    });
    if (!lease.acquired) {
      throw new TransientError(
        'RUN.STEP_BUSY',
        `service ${service} is being deployed by run ${lease.holder} (lease until ${lease.expiresAt})`,
      );
    }
    holdsLease = true;
    heartbeat.holdService(service);
    const superseding = findSupersedingRun(
      run,
      await deps.runStore.listRuns({ modelEndpointId: run.modelEndpointId, limit: 500 }),
    );
    if (superseding !== undefined) {
      const skipped = await failAttempt(
        deps.runStore,
        deps.logger,
        attempt,
        new PermanentError(
          'RUN.SUPERSEDED',
          `run ${superseding.runId} (run number ${superseding.runNumber}) is newer and has been ${superseding.status}`,
        ),
        { endAs: 'skipped' },
      );
      await release(deps, heartbeat, service, run.runId);
      return publishDeploymentFinished(deps, skipped);
    }

    // A request outside the operator's policies fails here, before an index
    // or a revision is made for nothing (revisionSpecFor checks again).
    checkDeploymentPolicy(deps.config.deploymentPolicy, run.modelEndpointId, run.deploymentConfig);
    resolveRolloutPlan(deps.config.rollout, run.modelEndpointId, run.deploymentConfig?.rollout);
    const choice = chooseRuntime(run, await readBundleFacts(deps.artifacts, run.artifactUri));
    if (choice.mode === 'ann' && !(await ensureIndex(deps, attempt))) return;

    const spec = revisionSpecFor(deps.config, run, choice);
    await failpoint('deploy.before-revision');
    const deployed = await deps.platform.deployRevision(spec);
    await failpoint('deploy.after-revision-ready');
    const serving: ServingRef = {
      runtime: choice.runtime,
      ...(choice.mode === undefined ? {} : { mode: choice.mode }),
      runtimeReason: runtimeReason(deps, choice),
      image: spec.image,
      service: deployed.service,
      revision: deployed.revision,
      tagUrl: deployed.tagUrl,
    };
    deps.logger.info('revision deployed with 0% traffic', { ...serving });
    // The service stays held for verify: for one hand-off window, after which
    // it lapses if verify never comes (verify renews it when it starts).
    await heartbeat.letGoService();
    await deps.runStore.acquireServiceLease({
      service,
      runId: run.runId,
      ttlMs: deps.config.leases.handOffWindowMs,
    });
    const done = await completeAttempt(deps.runStore, attempt, { serving });
    await failpoint('deploy.after-complete');
    await publishModelDeployed(deps, done);
  } catch (error) {
    // A passing failure rethrows here and keeps the service lease (re-entrant
    // for this run), so a newer run cannot slip in between our attempts; with
    // no heartbeat it lapses within one lease lifetime if this run never comes back.
    const failed = await failAttempt(deps.runStore, deps.logger, attempt, error);
    if (holdsLease) await release(deps, heartbeat, service, run.runId);
    await publishDeploymentFinished(deps, failed);
  }
}

/**
 * Makes sure the index is stored next to the bundle. Returns false when the
 * deployment has to wait for an index build job (the step is released and the
 * message acknowledged; the job's completion brings it back).
 */
async function ensureIndex(deps: DeployDeps, attempt: StepAttempt): Promise<boolean> {
  const uri = attempt.run.artifactUri;
  if ((await deps.indexes.status(uri)) === 'present') return true;
  const build = await deps.indexBuilds.status(attempt.run.runId);
  if (build.state === 'failed') {
    throw new PermanentError(
      'INDEX.INVALID',
      `the index build ${build.execution ?? ''} failed: ${build.error ?? 'no reason given'}`.replace(
        '  ',
        ' ',
      ),
    );
  }
  if (build.state === 'succeeded') {
    throw new PermanentError(
      'INDEX.NOT_FOUND',
      `the index build ${build.execution ?? ''} succeeded but ${uri}/ann/index holds no matching index`,
    );
  }
  const seconds = await deps.indexes.estimateBuildSeconds(uri);
  const limit = deps.config.indexBuild.inlineMaxSeconds;
  if (build.state === 'not_found' && seconds <= limit) {
    deps.logger.info('building the ANN index here', { estimatedSeconds: Math.round(seconds) });
    await deps.indexes.buildInline(uri);
    return true;
  }
  const started =
    build.state === 'running'
      ? build
      : await deps.indexBuilds.start({
          runId: attempt.run.runId,
          artifactUri: uri,
          notify: {
            topic: deps.config.runtime.topics.modelRegistered,
            message: {
              data: {
                schema_version: '1',
                run_id: attempt.run.runId,
                registry: attempt.run.registry,
              },
              attributes: { run_id: attempt.run.runId, schema_version: '1' },
              orderingKey: attempt.run.runId,
            },
          },
        });
  // Not a failure: the step is released with a note and the message is
  // acknowledged; the job's model-registered brings the step back.
  const waiting = `the ANN index is being built by ${started.execution ?? 'an index build job'} (estimated ${Math.round(seconds)} s, over the ${limit} s allowed inside the function); the deployment continues when it finishes`;
  deps.logger.info('waiting for the index-build job', { execution: started.execution ?? null });
  await deps.runStore.failStep({
    runId: attempt.run.runId,
    step: attempt.step,
    owner: attempt.owner,
    eventId: attempt.eventId,
    error: { code: 'INDEX.BUILDING', message: waiting },
    permanent: false,
  });
  return false;
}

function runtimeReason(deps: DeployDeps, choice: RuntimeChoice): string {
  if (deps.config.runtime.backend === 'local' && choice.runtime === 'tf-serving') {
    return `${choice.reason}. Locally there is no TF Serving binary: the local platform serves it with ann-serving in exact mode (same REST API)`;
  }
  return choice.reason;
}

async function release(
  deps: DeployDeps,
  heartbeat: Heartbeat,
  service: string,
  runId: string,
): Promise<void> {
  await heartbeat.letGoService();
  await deps.runStore.releaseServiceLease(service, runId);
}
