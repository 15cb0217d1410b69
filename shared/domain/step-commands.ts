import { PermanentError, TransientError } from '../errors.js';
import type {
  ClaimStepRequest,
  ClaimStepResult,
  CompleteStepRequest,
  FailStepRequest,
  TransitionResult,
} from './run-store-types.js';
import type { RunDocument, StepName, StepState } from './run-document.js';
import { boundStepError } from './run-document-bounds.js';
import {
  appendHistory,
  applyPatch,
  finishDocument,
  isExpired,
  isoAfter,
  moveTo,
  requireRun,
  setStep,
  type EditContext,
} from './run-document-edits.js';
import { illegalTransition, type RunDecision } from './run-commands.js';
import { STEP_STATUSES, chainRank, classifyTransition, isTerminal } from './run-state-machine.js';

/** The step a step's completion hands off to. */
export const NEXT_STEP: Readonly<Record<StepName, StepName | undefined>> = {
  register: 'deploy',
  deploy: 'verify',
  verify: undefined,
};

/**
 * Claims a step before any side effect (DESIGN.md §4 delivery rules).
 * done (step succeeded) → closed (run ended) → busy (an unexpired lease, whoever
 * holds it) → not_ready (previous step unfinished) → claimed.
 *
 * A lease is never re-entrant, not even for the same owner: an owner string
 * cannot tell a second delivery of one event from the attempt that is still
 * running, and two attempts must never run side effects at once. An expired
 * lease (its holder crashed or timed out) is taken over with attempts + 1.
 */
export function decideClaimStep(
  current: RunDocument | undefined,
  request: ClaimStepRequest,
  context: EditContext,
): RunDecision<ClaimStepResult> {
  const run = requireRun(current, request.runId);
  const step = run.steps[request.step];
  const statuses = STEP_STATUSES[request.step];
  if (step.status === 'succeeded') return { result: { kind: 'done', run } };
  if (isTerminal(run.status)) return { result: { kind: 'closed', run } };
  if (
    step.status === 'in_progress' &&
    step.lease &&
    !isExpired(step.lease.expiresAt, context.now)
  ) {
    return { result: { kind: 'busy', run, leaseExpiresAt: step.lease.expiresAt } };
  }
  const rank = chainRank(run.status) ?? 0;
  if (rank < (chainRank(statuses.ready) ?? 0)) return { result: { kind: 'not_ready', run } };
  if (rank > (chainRank(statuses.running) ?? 0)) return { result: { kind: 'done', run } };

  const attempt = step.attempts + 1;
  const claimed: StepState = {
    ...step,
    status: 'in_progress',
    attempts: attempt,
    startedAt: step.startedAt ?? context.now.toISOString(),
    endedAt: undefined,
    lease: { owner: request.owner, expiresAt: isoAfter(context.now, request.leaseMs) },
  };
  let next = setStep(run, request.step, claimed, context);
  if (run.status === statuses.ready) {
    next = moveTo(next, statuses.running, context);
  } else {
    // Already running: a retry after a transient failure or a takeover. Not a
    // status change, but worth a history line: it explains a slow run.
    const why = step.lease ? `lease of ${step.lease.owner} expired` : 'retry';
    next = appendHistory(
      next,
      { from: run.status, to: run.status, reason: `${request.step} attempt ${attempt} (${why})` },
      context,
    );
  }
  next = finishDocument(next);
  return { write: next, result: { kind: 'claimed', run: next, attempt } };
}

/**
 * Finishes a claimed step and moves the run to the step's done status. A
 * repeat (step already succeeded) or a run that has meanwhile ended answers
 * `changed: false`. An owner that no longer holds the step (it was taken over
 * or released) gets TransientError 'RUN.LEASE_LOST': its work may be redone by
 * the holder, and the message comes back to find the outcome.
 */
export function decideCompleteStep(
  current: RunDocument | undefined,
  request: CompleteStepRequest,
  context: EditContext,
  options: {
    readonly recordsServing?: boolean;
    /** Verify that starts a canary: the run goes to `canary` instead of `live`. */
    readonly doneAs?: 'canary';
  } = {},
): RunDecision<TransitionResult> {
  const run = requireRun(current, request.runId);
  if (request.step === 'verify' && options.recordsServing !== true) {
    // Going live means serving: only recordServing completes verify, in the
    // transaction that records what serves and demotes the run it replaced,
    // so a service never has two live runs.
    throw new PermanentError(
      'RUN.ILLEGAL_TRANSITION',
      `run ${request.runId}: verify completes through recordServing (what the platform serves), not completeStep`,
      { metadata: { runId: request.runId, step: request.step } },
    );
  }
  const step = run.steps[request.step];
  if (step.status === 'succeeded' || isTerminal(run.status)) {
    return { result: { changed: false, run } };
  }
  assertHolds(run, request.step, request.owner);
  const done = options.doneAs ?? STEP_STATUSES[request.step].done;
  const at = context.now.toISOString();
  let next = setStep(
    run,
    request.step,
    { ...step, status: 'succeeded', endedAt: at, lease: undefined, error: undefined },
    context,
  );
  // The caller publishes the next step's message right after: that is this
  // window's hand-off, so duplicates do not publish it again (step-hand-off.ts).
  const following = NEXT_STEP[request.step];
  if (following !== undefined) {
    next = setStep(next, following, { ...next.steps[following], handOffAt: at }, context);
  }
  const kind = classifyTransition(run.status, done);
  if (kind === 'illegal') throw illegalTransition(run, done);
  if (kind === 'legal') next = moveTo(next, done, context);
  next = finishDocument(applyPatch(next, request.patch));
  return { write: next, result: { changed: true, run: next } };
}

/**
 * Reports a failed attempt. Permanent: the step and the run become failed
 * (statusReason and step error say why). Transient: the step goes back to
 * pending with its error kept and its lease cleared, so the redelivered
 * message can claim it at once. A run that has ended or a step that has
 * succeeded answers `changed: false`.
 */
export function decideFailStep(
  current: RunDocument | undefined,
  request: FailStepRequest,
  context: EditContext,
): RunDecision<TransitionResult> {
  const run = requireRun(current, request.runId);
  const step = run.steps[request.step];
  if (step.status === 'succeeded' || isTerminal(run.status)) {
    return { result: { changed: false, run } };
  }
  assertHolds(run, request.step, request.owner);
  const error = boundStepError(request.error);
  const summary = `${request.step} attempt ${step.attempts} failed: ${error.code}: ${error.message}`;
  let next: RunDocument;
  if (request.permanent) {
    const endAs = request.endAs ?? 'failed';
    const state: StepState = {
      ...step,
      status: endAs,
      endedAt: context.now.toISOString(),
      error,
      lease: undefined,
    };
    const reason = endAs === 'skipped' ? `${error.code}: ${error.message}` : summary;
    next = moveTo(setStep(run, request.step, state, context), endAs, context, reason);
  } else {
    const state: StepState = { ...step, status: 'pending', error, lease: undefined };
    next = appendHistory(
      setStep(run, request.step, state, context),
      { from: run.status, to: run.status, reason: `${summary} (will retry)` },
      context,
    );
  }
  next = finishDocument(applyPatch(next, request.patch));
  return { write: next, result: { changed: true, run: next } };
}

/**
 * TransientError 'RUN.LEASE_LOST' unless `owner` holds the step. An expired
 * lease still counts as held until someone takes it over: nobody else has
 * started, so the holder's result is the only one.
 */
export function assertHolds(run: RunDocument, step: StepName, owner: string): void {
  const state = run.steps[step];
  if (state.status === 'in_progress' && state.lease?.owner === owner) return;
  throw new TransientError(
    'RUN.LEASE_LOST',
    `${owner} does not hold step ${step} of run ${run.runId}`,
    {
      metadata: {
        runId: run.runId,
        step,
        owner,
        holder: state.lease?.owner ?? null,
        stepStatus: state.status,
      },
    },
  );
}
