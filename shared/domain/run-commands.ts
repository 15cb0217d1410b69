import { PermanentError, truncateText } from '../errors.js';
import { RUN_LIMITS } from './run-document-bounds.js';
import type { CreateRunResult, TransitionRequest, TransitionResult } from './run-store-types.js';
import { runKey, STEP_NAMES } from './run-document.js';
import type { RunDocument, RunIdentity, StepName, StepState } from './run-document.js';
import {
  applyPatch,
  finishDocument,
  moveTo,
  requireRun,
  setStep,
  type EditContext,
} from './run-document-edits.js';
import { classifyTransition, stepOfStatus } from './run-state-machine.js';

export type { EditContext } from './run-document-edits.js';

/**
 * The RunStore's behaviour, decided once, as pure functions: given the stored
 * document (or undefined), the command and the time, return the document to
 * write (if any) and the result to answer. Adapters load, decide and write in
 * one transaction; they never decide anything themselves. Decisions throw
 * RecdeployErrors (RUN.NOT_FOUND, RUN.ILLEGAL_TRANSITION, RUN.LEASE_LOST, …).
 */
export interface RunDecision<R> {
  /** The whole next document; absent when nothing changes (a no-op or a refusal). */
  readonly write?: RunDocument;
  readonly result: R;
}

/** Creates the run in `received`, or answers `exists` and writes nothing. */
export function decideCreateRun(
  current: RunDocument | undefined,
  identity: RunIdentity,
  context: EditContext,
): RunDecision<CreateRunResult> {
  // Validated even when the run exists, so every store refuses the same input.
  const picked = pickIdentity(identity);
  if (current !== undefined) return { result: { kind: 'exists', run: current } };
  const at = context.now.toISOString();
  const pending: StepState = { status: 'pending', attempts: 0 };
  const steps = Object.fromEntries(STEP_NAMES.map((s) => [s, pending])) as Record<
    StepName,
    StepState
  >;
  const run = finishDocument({
    ...picked,
    runId: runKey(identity),
    status: 'received',
    steps,
    history: [
      {
        at,
        from: null,
        to: 'received',
        ...(context.eventId === undefined
          ? {}
          : { eventId: truncateText(context.eventId, RUN_LIMITS.historyEventIdChars) }),
      },
    ],
    createdAt: at,
    updatedAt: at,
  });
  return { write: run, result: { kind: 'created', run } };
}

/**
 * Moves a run along the state machine. Already happened → `changed: false`
 * and no write (a redelivered event does nothing twice, the patch included);
 * illegal → PermanentError 'RUN.ILLEGAL_TRANSITION'. A move into a step's
 * running or done status keeps that step consistent (in progress without a
 * lease, or succeeded), the same as claimStep/completeStep would.
 */
export function decideTransition(
  current: RunDocument | undefined,
  request: TransitionRequest,
  context: EditContext,
): RunDecision<TransitionResult> {
  const run = requireRun(current, request.runId);
  const kind = classifyTransition(run.status, request.to);
  if (kind === 'noop') return { result: { changed: false, run } };
  if (kind === 'illegal') throw illegalTransition(run, request.to);
  if (request.to === 'live') {
    // As for verify's completion: a run goes live only with what serves (recordServing).
    throw illegalTransition(run, 'live (a run goes live only through recordServing)');
  }
  let next = run;
  const owned = stepOfStatus(request.to);
  if (owned !== undefined) {
    const step = run.steps[owned.step];
    const at = context.now.toISOString();
    const state: StepState =
      owned.phase === 'running'
        ? {
            ...step,
            status: 'in_progress',
            attempts: step.attempts + 1,
            startedAt: step.startedAt ?? at,
            endedAt: undefined,
            lease: undefined,
          }
        : { ...step, status: 'succeeded', endedAt: at, lease: undefined, error: undefined };
    next = setStep(next, owned.step, state, context);
  }
  next = finishDocument(
    applyPatch(moveTo(next, request.to, context, request.reason), request.patch),
  );
  return { write: next, result: { changed: true, run: next } };
}

/** PermanentError 'RUN.ILLEGAL_TRANSITION' naming both statuses. */
export function illegalTransition(run: RunDocument, to: string): PermanentError {
  return new PermanentError(
    'RUN.ILLEGAL_TRANSITION',
    `run ${run.runId} cannot move from ${run.status} to ${to}`,
    { metadata: { runId: run.runId, from: run.status, to } },
  );
}

/**
 * Only the identity fields, so a caller cannot smuggle a status or steps into
 * a new run. completedAt is stored in canonical ISO form (UTC, milliseconds):
 * it is compared across runs and must round-trip through Firestore exactly.
 */
function pickIdentity(identity: RunIdentity): RunIdentity {
  let completedAt: string | undefined;
  if (identity.completedAt !== undefined) {
    const ms = Date.parse(identity.completedAt);
    if (Number.isNaN(ms)) {
      throw new PermanentError(
        'EVENT.INVALID',
        `completedAt is not a time: ${identity.completedAt}`,
        {
          metadata: { completedAt: identity.completedAt.slice(0, 100) },
        },
      );
    }
    completedAt = new Date(ms).toISOString();
  }
  return {
    trainingRunId: identity.trainingRunId,
    modelEndpointId: identity.modelEndpointId,
    modelSlug: identity.modelSlug,
    runNumber: identity.runNumber,
    modelType: identity.modelType,
    retrievalAlgorithm: identity.retrievalAlgorithm,
    artifactUri: identity.artifactUri,
    isBlessed: identity.isBlessed,
    metrics: { ...identity.metrics },
    ...(identity.deploymentConfig === undefined
      ? {}
      : { deploymentConfig: { ...identity.deploymentConfig } }),
    ...(completedAt === undefined ? {} : { completedAt }),
  };
}
