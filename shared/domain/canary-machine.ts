/**
 * The canary state machine as pure functions (canary-state.ts has the
 * states). A tick (usecases/advance-canary.ts) asks `canaryEffect` what the
 * platform must do for the current phase, does it when the platform does
 * not show it already, and writes the state these functions return:
 *
 * ```
 * moving(i) ─traffic moved→ holding(i) ─pass→ moving(i+1) … ─pass at the last judged step→ promoting → promoted
 *                              └─fail / too little traffic by max hold→ aborting → aborted
 * operator: promote → promoting, abort → aborting (from moving or holding)
 * ```
 * Decisions (to move, promote, abort) are written before the traffic moves,
 * so a crash between the two leaves a phase that says what to finish.
 */
import { PermanentError } from '../errors.js';
import type {
  CanaryAnalysis,
  CanaryOperatorRequest,
  CanaryState,
  CanaryStepRecord,
} from './canary-state.js';
import type { CanaryPlan } from './rollout-plan.js';

/** What the platform must show for the current phase. */
export type CanaryEffect =
  /** The canary at `percent`, the stable at the rest. */
  | { readonly kind: 'split'; readonly percent: number }
  /** The canary at 100%: then the run is recorded live. */
  | { readonly kind: 'promote' }
  /** The stable at 100%: then the run is recorded rolled back. */
  | { readonly kind: 'restore-stable' }
  /** The split serves: read the window's metrics and judge it. */
  | { readonly kind: 'judge' }
  | { readonly kind: 'none' };

export function canaryEffect(state: CanaryState): CanaryEffect {
  switch (state.phase) {
    case 'moving':
      return { kind: 'split', percent: state.plan.steps[state.stepIndex] ?? 100 };
    case 'holding':
      return { kind: 'judge' };
    case 'promoting':
      return { kind: 'promote' };
    case 'aborting':
      return { kind: 'restore-stable' };
    default:
      return { kind: 'none' };
  }
}

/** The state of a canary whose first split verify is about to make. */
export function startCanary(
  plan: CanaryPlan,
  revisions: {
    readonly revision: string;
    readonly stableRevision: string;
    readonly stableRunId?: string;
  },
  now: Date,
): CanaryState {
  const at = now.toISOString();
  return {
    plan,
    revision: revisions.revision,
    stableRevision: revisions.stableRevision,
    ...(revisions.stableRunId === undefined ? {} : { stableRunId: revisions.stableRunId }),
    phase: 'moving',
    stepIndex: 0,
    seq: 1,
    steps: [{ percent: plan.steps[0] ?? 100, decidedAt: at }],
    startedAt: at,
    updatedAt: at,
  };
}

/** moving → holding: the platform shows the step's split; its window starts now. */
export function trafficMoved(state: CanaryState, now: Date): CanaryState {
  requirePhase(state, 'moving');
  return next(state, now, {
    phase: 'holding',
    steps: withStep(state, { trafficAt: now.toISOString() }),
  });
}

/**
 * holding → the next state for this judgement: the same step with the
 * latest analysis (wait), the next step or the promotion (pass), or the
 * abort (fail, or still too little traffic when the step's max hold is over).
 */
export function decideHold(state: CanaryState, analysis: CanaryAnalysis, now: Date): CanaryState {
  requirePhase(state, 'holding');
  const at = now.toISOString();
  const step = currentStep(state);
  const label = stepLabel(state);
  if (analysis.verdict === 'fail') {
    return abort(
      state,
      now,
      { analysis, verdict: 'failed', endedAt: at },
      `${label} failed: ${analysis.summary}`,
    );
  }
  if (analysis.verdict === 'wait') {
    const trafficAt = step.trafficAt === undefined ? now : new Date(step.trafficAt);
    const heldS = (now.getTime() - trafficAt.getTime()) / 1000;
    const short =
      analysis.canary.requests < state.plan.minRequests ||
      analysis.stable.requests < state.plan.minRequests;
    if (short && heldS >= state.plan.maxHoldS) {
      return abort(
        state,
        now,
        { analysis, verdict: 'failed', endedAt: at },
        `${label} could not be judged: after ${Math.floor(heldS)} s (the max hold) the canary had ${analysis.canary.requests} and the stable ${analysis.stable.requests} requests, ${state.plan.minRequests} needed on each`,
      );
    }
    return next(state, now, { steps: withStep(state, { analysis }) });
  }
  const passed = withStep(state, { analysis, verdict: 'passed', endedAt: at });
  return advance(state, now, passed, `every step passed; the last: ${analysis.summary}`);
}

/**
 * holding, with live metrics that cannot be read: the step waits for them
 * (undefined) until its max hold is over, then the canary is aborted rather
 * than left serving a share no one can judge.
 */
export function metricsUnavailable(
  state: CanaryState,
  problem: string,
  now: Date,
): CanaryState | undefined {
  requirePhase(state, 'holding');
  const trafficAt = currentStep(state).trafficAt;
  const heldS =
    (now.getTime() - (trafficAt === undefined ? now : new Date(trafficAt)).getTime()) / 1000;
  if (heldS < state.plan.maxHoldS) return undefined;
  return abort(
    state,
    now,
    { verdict: 'failed', endedAt: now.toISOString() },
    `${stepLabel(state)} could not be judged: its live metrics could not be read, and ${Math.floor(heldS)} s (the max hold) have passed: ${problem}`,
  );
}

/**
 * Records an operator's promote or abort; the next tick does it. Refused
 * (RUN.CANARY_ENDED) once the canary is over or already being promoted or
 * aborted: saying so beats silently doing nothing.
 */
export function requestCanaryAction(
  state: CanaryState,
  request: CanaryOperatorRequest,
  now: Date,
): CanaryState {
  if (state.phase !== 'moving' && state.phase !== 'holding') {
    throw new PermanentError(
      'RUN.CANARY_ENDED',
      `the canary of revision ${state.revision} is ${state.phase}${state.outcome ? ` (${state.outcome.reason})` : ''}: nothing to ${request.action}`,
    );
  }
  return next(state, now, { request });
}

/**
 * moving/holding with an operator's request → promoting or aborting; without
 * one, the state unchanged (same object).
 */
export function applyOperatorRequest(state: CanaryState, now: Date): CanaryState {
  const request = state.request;
  if (request === undefined || (state.phase !== 'moving' && state.phase !== 'holding'))
    return state;
  const at = now.toISOString();
  if (request.action === 'abort') {
    return abort(
      state,
      now,
      { verdict: 'aborted_by_operator', endedAt: at },
      `aborted by ${request.by} at ${stepLabel(state)}`,
    );
  }
  const cut = withStep(state, { verdict: 'promoted_by_operator', endedAt: at });
  return {
    ...next(state, now, { phase: 'promoting', steps: cut }),
    outcome: {
      result: 'promoted',
      reason: `promoted by ${request.by} at ${stepLabel(state)}, before the remaining steps`,
      at,
    },
  };
}

/** promoting → promoted, aborting → aborted: the platform shows the end the decision asked for. */
export function canaryFinished(state: CanaryState, now: Date): CanaryState {
  if (state.phase === 'promoting') return next(state, now, { phase: 'promoted' });
  if (state.phase === 'aborting') return next(state, now, { phase: 'aborted' });
  throw new PermanentError(
    'RUN.ILLEGAL_TRANSITION',
    `a ${state.phase} canary cannot finish: only promoting or aborting ones do`,
  );
}

/** "step 1 of 2 (10% of traffic)": steps counted without the final promotion. */
export function stepLabel(state: CanaryState): string {
  const judged = state.plan.steps.length - 1;
  const percent = state.plan.steps[state.stepIndex] ?? 100;
  return `step ${state.stepIndex + 1} of ${judged} (${percent}% of traffic)`;
}

function advance(
  state: CanaryState,
  now: Date,
  steps: readonly CanaryStepRecord[],
  promotedReason: string,
): CanaryState {
  const at = now.toISOString();
  const following = state.stepIndex + 1;
  const percent = state.plan.steps[following] ?? 100;
  if (percent >= 100) {
    return {
      ...next(state, now, { phase: 'promoting', steps }),
      outcome: { result: 'promoted', reason: promotedReason, at },
    };
  }
  return next(state, now, {
    phase: 'moving',
    stepIndex: following,
    steps: [...steps, { percent, decidedAt: at }],
  });
}

function abort(
  state: CanaryState,
  now: Date,
  stepEnd: Partial<CanaryStepRecord>,
  reason: string,
): CanaryState {
  return {
    ...next(state, now, { phase: 'aborting', steps: withStep(state, stepEnd) }),
    outcome: { result: 'aborted', reason, at: now.toISOString() },
  };
}

function next(state: CanaryState, now: Date, changes: Partial<CanaryState>): CanaryState {
  return { ...state, ...changes, seq: state.seq + 1, updatedAt: now.toISOString() };
}

function currentStep(state: CanaryState): CanaryStepRecord {
  return (
    state.steps[state.stepIndex] ?? {
      percent: state.plan.steps[state.stepIndex] ?? 100,
      decidedAt: state.updatedAt,
    }
  );
}

function withStep(state: CanaryState, changes: Partial<CanaryStepRecord>): CanaryStepRecord[] {
  const steps = [...state.steps];
  steps[state.stepIndex] = { ...currentStep(state), ...changes };
  return steps;
}

function requirePhase(state: CanaryState, phase: CanaryState['phase']): void {
  if (state.phase !== phase) {
    throw new PermanentError(
      'RUN.ILLEGAL_TRANSITION',
      `the canary of revision ${state.revision} is ${state.phase}, not ${phase}`,
    );
  }
}
