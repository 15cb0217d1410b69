/**
 * What an operator can ask of a run that the chain will not do by itself
 * (`recdeploy retry`, `recdeploy deploy`). Both reopen a run that ended, so
 * they are deliberate commands beside the state machine, not transitions
 * any delivery could cause; both say so in the run's history.
 */
import { PermanentError } from '../errors.js';
import type { RunDocument, StepName, StepState } from './run-document.js';
import { STEP_NAMES } from './run-document.js';
import {
  finishDocument,
  moveTo,
  requireRun,
  setStep,
  withoutFields,
  type EditContext,
} from './run-document-edits.js';
import type { RunDecision } from './run-commands.js';
import { STEP_STATUSES } from './run-state-machine.js';
import type { WriteContext } from './run-store-types.js';

export interface RetryRunRequest extends WriteContext {
  readonly runId: string;
  /** Who asks, for the history (e.g. "recdeploy retry by alice"). */
  readonly requestedBy: string;
  /**
   * A corrected artifact URI; only while nothing was registered from the old
   * one (the run failed in its register step).
   */
  readonly artifactUri?: string;
}

export interface ReopenedRun {
  readonly run: RunDocument;
  /** The step to start again: publish its hand-off. */
  readonly step: StepName;
}

/**
 * Reopens a failed run at the step that failed, as a new attempt of the same
 * run: the run goes back to that step's ready status, the step to pending
 * (attempts kept, so the history counts on), later steps untouched (they
 * never ran). A run that is not failed is refused with what to do instead.
 */
export function decideRetryRun(
  current: RunDocument | undefined,
  request: RetryRunRequest,
  context: EditContext,
): RunDecision<ReopenedRun> {
  const run = requireRun(current, request.runId);
  if (run.status !== 'failed') {
    throw new PermanentError('RUN.NOT_RETRYABLE', notRetryable(run), {
      metadata: { runId: run.runId, status: run.status },
    });
  }
  const step =
    STEP_NAMES.find((name) => run.steps[name].status === 'failed') ??
    STEP_NAMES.find((name) => run.steps[name].status !== 'succeeded') ??
    'verify';
  if (request.artifactUri !== undefined && step !== 'register') {
    throw new PermanentError(
      'RUN.NOT_RETRYABLE',
      `run ${run.runId} failed in its ${step} step, after ${run.artifactUri} was registered as ${run.registry?.model ?? '?'} version ${run.registry?.version ?? '?'}: its artifact cannot change now; publish a new training run (another training_run_id) for the corrected artifact`,
      { metadata: { runId: run.runId, step } },
    );
  }
  const at = context.now.toISOString();
  const reopened: StepState = {
    status: 'pending',
    attempts: run.steps[step].attempts,
    ...(run.steps[step].startedAt === undefined ? {} : { startedAt: run.steps[step].startedAt }),
    handOffAt: at,
  };
  const rest = withoutFields(run, 'statusReason');
  const base: RunDocument =
    request.artifactUri === undefined ? rest : { ...rest, artifactUri: request.artifactUri };
  const changedUri =
    request.artifactUri === undefined || request.artifactUri === run.artifactUri
      ? ''
      : ` with artifact ${request.artifactUri} (was ${run.artifactUri})`;
  const write = finishDocument(
    moveTo(
      setStep(base, step, reopened, context),
      STEP_STATUSES[step].ready,
      context,
      `retry of the ${step} step requested by ${request.requestedBy}${changedUri}`,
    ),
  );
  return { write, result: { run: write, step } };
}

export interface RequestDeployRequest extends WriteContext {
  readonly runId: string;
  readonly requestedBy: string;
  /** Deploy a run the Evaluator did not bless. */
  readonly allowUnblessed: boolean;
}

/** Statuses from which an operator may deploy a registered run on demand. */
const DEPLOYABLE_ON_DEMAND: readonly RunDocument['status'][] = [
  'skipped',
  'failed',
  'replaced',
  'rolled_back',
];

/**
 * Sends a registered run through deploy and verify on demand (a run that was
 * not blessed, superseded, replaced or rolled back): same chain, same checks;
 * recorded as `manualDeploy`, which exempts it from supersession.
 */
export function decideRequestDeploy(
  current: RunDocument | undefined,
  request: RequestDeployRequest,
  context: EditContext,
): RunDecision<ReopenedRun> {
  const run = requireRun(current, request.runId);
  if (run.registry === undefined || run.steps.register.status !== 'succeeded') {
    throw new PermanentError(
      'RUN.NOT_DEPLOYABLE',
      `run ${run.runId} was never registered (status ${run.status}${run.statusReason ? `: ${run.statusReason}` : ''}); ${run.status === 'failed' ? `retry it first: recdeploy retry ${run.runId}` : 'only a registered run can be deployed'}`,
      { metadata: { runId: run.runId, status: run.status } },
    );
  }
  if (!DEPLOYABLE_ON_DEMAND.includes(run.status)) {
    const why =
      run.status === 'live'
        ? 'it is live already'
        : `it is being deployed now (${run.status}); follow it with: recdeploy status ${run.runId} --watch`;
    throw new PermanentError('RUN.NOT_DEPLOYABLE', `run ${run.runId} cannot be deployed: ${why}`, {
      metadata: { runId: run.runId, status: run.status },
    });
  }
  if (!run.isBlessed && !request.allowUnblessed) {
    throw new PermanentError(
      'RUN.NOT_BLESSED',
      `run ${run.runId} was not blessed by the Evaluator; deploy it anyway with --allow-unblessed`,
      { metadata: { runId: run.runId } },
    );
  }
  const at = context.now.toISOString();
  const fresh = (state: StepState): StepState => ({
    status: 'pending',
    attempts: state.attempts,
  });
  const rest = withoutFields(run, 'statusReason', 'replacedBy', 'verification');
  let next: RunDocument = {
    ...rest,
    manualDeploy: {
      requestedAt: at,
      allowUnblessed: request.allowUnblessed,
      fromStatus: run.status,
    },
  };
  next = setStep(next, 'deploy', { ...fresh(run.steps.deploy), handOffAt: at }, context);
  next = setStep(next, 'verify', fresh(run.steps.verify), context);
  const unblessed = run.isBlessed ? '' : ' (not blessed: allowed by the operator)';
  const write = finishDocument(
    moveTo(next, 'registered', context, `deploy requested by ${request.requestedBy}${unblessed}`),
  );
  return { write, result: { run: write, step: 'deploy' } };
}

function notRetryable(run: RunDocument): string {
  switch (run.status) {
    case 'live':
      return `run ${run.runId} is live: nothing to retry`;
    case 'skipped':
    case 'replaced':
    case 'rolled_back':
      return `run ${run.runId} is ${run.status}, not failed: to serve it, use recdeploy deploy ${run.runId}${run.isBlessed ? '' : ' --allow-unblessed'}`;
    default:
      return `run ${run.runId} is ${run.status}: it has not failed`;
  }
}
