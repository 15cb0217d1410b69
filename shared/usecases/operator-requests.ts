/**
 * What an operator asks of one run (`recdeploy retry`, `recdeploy deploy`):
 * the store records the request in the run (operator-commands.ts), then the
 * hand-off of the step to run is published. If the process stops between the
 * two, the run is left waiting for that step and the reconciler publishes it.
 */
import { PermanentError } from '../errors.js';
import type { RunDocument, StepName } from '../domain/run-document.js';
import { waitingStep } from '../domain/step-hand-off.js';
import type { ChainDeps } from './chain-deps.js';
import { publishHandOff, republishHandOff } from './hand-off-publishing.js';

export type OperatorDeps = Pick<ChainDeps, 'config' | 'logger' | 'runStore' | 'eventBus'>;

export interface OperatorOutcome {
  readonly run: RunDocument;
  /** The step whose message was published. */
  readonly step: StepName;
  /** reopened: a failed (or on-demand) run starts that step again; redriven: a stuck run's step got its message again. */
  readonly action: 'reopened' | 'redriven';
}

/**
 * Retries a failed run from its failed step (optionally with a corrected
 * artifact URI, while nothing was registered), or re-drives a run in flight
 * whose step no attempt holds.
 * @throws PermanentError RUN.NOT_FOUND, RUN.NOT_RETRYABLE (live, ended
 *   otherwise, or an attempt is running now).
 */
export async function retryRun(
  deps: OperatorDeps,
  request: { readonly runId: string; readonly requestedBy: string; readonly artifactUri?: string },
): Promise<OperatorOutcome> {
  const run = await deps.runStore.getRun(request.runId);
  if (run === undefined) {
    throw new PermanentError('RUN.NOT_FOUND', `run ${request.runId} does not exist`, {
      metadata: { runId: request.runId },
    });
  }
  const step = waitingStep(run.status);
  if (step !== undefined && request.artifactUri === undefined) {
    const claim = await republishHandOff(deps, {
      runId: run.runId,
      step,
      windowMs: 0,
      reason: `${step} re-driven: retry requested by ${request.requestedBy}`,
    });
    if (claim.kind === 'claimed') return { run: claim.run, step, action: 'redriven' };
    throw new PermanentError(
      'RUN.NOT_RETRYABLE',
      `run ${run.runId} is ${run.status} and an attempt of its ${step} step is running (its lease holds until ${claim.retryAfter ?? '?'}); it needs no retry: follow it with recdeploy status ${run.runId} --watch`,
      { metadata: { runId: run.runId, status: run.status } },
    );
  }
  const reopened = await deps.runStore.retryRun(request);
  await publishHandOff(deps, reopened.run, reopened.step);
  deps.logger.info('retry requested', { runId: run.runId, step: reopened.step });
  return { ...reopened, action: 'reopened' };
}

/**
 * Deploys a registered run on demand (not blessed, superseded, replaced,
 * rolled back or failed after registering) through the same deploy and verify.
 * @throws PermanentError RUN.NOT_FOUND, RUN.NOT_DEPLOYABLE, RUN.NOT_BLESSED.
 */
export async function deployOnDemand(
  deps: OperatorDeps,
  request: {
    readonly runId: string;
    readonly requestedBy: string;
    readonly allowUnblessed: boolean;
  },
): Promise<OperatorOutcome> {
  const reopened = await deps.runStore.requestDeploy(request);
  await publishHandOff(deps, reopened.run, reopened.step);
  deps.logger.info('deploy requested', { runId: reopened.run.runId });
  return { ...reopened, action: 'reopened' };
}
