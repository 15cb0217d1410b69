/**
 * Two decisions that keep a run moving without a human (DESIGN.md §4
 * "Convergence and truth"):
 * - an attempt renews its step lease while it runs (heartbeat), so the lease
 *   of an attempt that died lapses within one lease period and the next
 *   delivery takes over;
 * - the message that starts a step (its hand-off) is republished at most once
 *   per window, whoever asks (a duplicate delivery of the previous step, the
 *   reconciler, an operator's retry), so duplicates cannot fan out.
 */
import { TransientError } from '../errors.js';
import type { RunDocument, RunPatch, StepName } from './run-document.js';
import {
  appendHistory,
  applyPatch,
  finishDocument,
  isExpired,
  isoAfter,
  requireRun,
  setStep,
  type EditContext,
} from './run-document-edits.js';
import type { RunDecision } from './run-commands.js';
import { STEP_STATUSES, isTerminal } from './run-state-machine.js';
import type { WriteContext } from './run-store-types.js';
import { assertHolds } from './step-commands.js';

export interface RenewStepLeaseRequest extends WriteContext {
  readonly runId: string;
  readonly step: StepName;
  readonly owner: string;
  readonly leaseMs: number;
  /**
   * What the attempt has found so far, kept if it dies (verify saves its
   * passed checks before it moves traffic, so a takeover can show them).
   */
  readonly patch?: RunPatch;
}

/**
 * Extends the lease of a step its owner still holds to now + leaseMs. No
 * history line (it would fill the bounded history with heartbeats).
 * @throws TransientError 'RUN.LEASE_LOST' when the owner no longer holds it.
 */
export function decideRenewStepLease(
  current: RunDocument | undefined,
  request: RenewStepLeaseRequest,
  context: EditContext,
): RunDecision<{ readonly expiresAt: string }> {
  const run = requireRun(current, request.runId);
  assertHolds(run, request.step, request.owner);
  if (isTerminal(run.status)) {
    // The run ended under the attempt (an operator or a newer run moved it):
    // the attempt's work can no longer count, so stop renewing.
    throw new TransientError(
      'RUN.LEASE_LOST',
      `run ${run.runId} is ${run.status}: ${request.owner} no longer holds step ${request.step}`,
      { metadata: { runId: run.runId, step: request.step, status: run.status } },
    );
  }
  const expiresAt = isoAfter(context.now, request.leaseMs);
  const step = run.steps[request.step];
  const write = finishDocument(
    applyPatch(
      setStep(run, request.step, { ...step, lease: { owner: request.owner, expiresAt } }, context),
      request.patch,
    ),
  );
  return { write, result: { expiresAt } };
}

export interface ClaimHandOffRequest extends WriteContext {
  readonly runId: string;
  /** The step the hand-off starts (deploy: model-registered; register: training-completed). */
  readonly step: StepName;
  /** At most one hand-off per window. */
  readonly windowMs: number;
  /** Who asks and why, for the run's history. */
  readonly reason: string;
}

/**
 * `claimed`: publish the hand-off now. Otherwise why not:
 * `not_waiting` (the run is not waiting for this step: it ended, or is
 * elsewhere in the chain), `running` (an attempt holds the step),
 * `recent` (a hand-off went out less than a window ago).
 */
export type ClaimHandOffResult =
  | { readonly kind: 'claimed'; readonly run: RunDocument }
  | {
      readonly kind: 'not_waiting' | 'running' | 'recent';
      readonly run: RunDocument;
      /** For `running` and `recent`: when it may be asked again. */
      readonly retryAfter?: string;
    };

export function decideClaimHandOff(
  current: RunDocument | undefined,
  request: ClaimHandOffRequest,
  context: EditContext,
): RunDecision<ClaimHandOffResult> {
  const run = requireRun(current, request.runId);
  const step = run.steps[request.step];
  const statuses = STEP_STATUSES[request.step];
  const waiting = run.status === statuses.ready || run.status === statuses.running;
  if (isTerminal(run.status) || !waiting || step.status === 'succeeded') {
    return { result: { kind: 'not_waiting', run } };
  }
  if (step.lease !== undefined && !isExpired(step.lease.expiresAt, context.now)) {
    return { result: { kind: 'running', run, retryAfter: step.lease.expiresAt } };
  }
  if (step.handOffAt !== undefined) {
    const nextAt = isoAfter(new Date(step.handOffAt), request.windowMs);
    if (!isExpired(nextAt, context.now)) {
      return { result: { kind: 'recent', run, retryAfter: nextAt } };
    }
  }
  const marked = setStep(
    run,
    request.step,
    { ...step, handOffAt: context.now.toISOString() },
    context,
  );
  const write = finishDocument(
    appendHistory(marked, { from: run.status, to: run.status, reason: request.reason }, context),
  );
  return { write, result: { kind: 'claimed', run: write } };
}

/** A run that stopped moving, and which step's hand-off would move it again. */
export interface StalledRun {
  readonly step: StepName;
  /** When anything last happened to the run or the step's hand-off. */
  readonly lastActivity: string;
  /** The lease that lapsed, if an attempt died holding it. */
  readonly lapsedLease?: { readonly owner: string; readonly expiresAt: string };
}

/**
 * The step a run in flight waits for, when nothing has moved it for a whole
 * hand-off window and no attempt holds it (none started, or the one that did
 * died and its lease lapsed). Undefined for ended runs and runs in motion:
 * the bus is still redelivering, or an attempt is running and heartbeating.
 */
export function findStalledStep(
  run: RunDocument,
  now: Date,
  windowMs: number,
): StalledRun | undefined {
  const step = waitingStep(run.status);
  if (step === undefined) return undefined;
  const state = run.steps[step];
  if (state.lease !== undefined && !isExpired(state.lease.expiresAt, now)) return undefined;
  // A running attempt's heartbeats stamp updatedAt, so a dead one's lease has
  // lapsed for about one lifetime when this window ends.
  const lastActivity =
    state.handOffAt !== undefined && Date.parse(state.handOffAt) > Date.parse(run.updatedAt)
      ? state.handOffAt
      : run.updatedAt;
  if (!isExpired(isoAfter(new Date(lastActivity), windowMs), now)) return undefined;
  return { step, lastActivity, ...(state.lease === undefined ? {} : { lapsedLease: state.lease }) };
}

/** The step a run in `status` waits for or runs (undefined once the run is live or ended). */
export function waitingStep(status: RunDocument['status']): StepName | undefined {
  return (Object.keys(STEP_STATUSES) as StepName[]).find((name) => {
    const statuses = STEP_STATUSES[name];
    return status === statuses.ready || status === statuses.running;
  });
}
