/**
 * A canary's state, kept in its run document (`canary`), so every step
 * survives a crash and no process has to sleep through a hold: the
 * reconciler's tick reads it, does what it says, and writes the next state
 * (canary-machine.ts). Every write compares `seq`, so two ticks never both
 * decide, and a decision is written before the traffic it asks for moves.
 */
import type { CanaryPlan } from './rollout-plan.js';

/**
 * - moving: decided that the canary gets `steps[stepIndex]`% (the split is being made);
 * - holding: the split serves; the window runs and is judged at each tick;
 * - promoting: decided that the canary gets 100% (the run becomes live);
 * - aborting: decided that the stable gets 100% back (the run ends rolled_back);
 * - promoted / aborted: done.
 */
export const CANARY_PHASES = [
  'moving',
  'holding',
  'promoting',
  'aborting',
  'promoted',
  'aborted',
] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

/** What was measured of one revision over a window (the metrics source's reading). */
export interface WindowMetrics {
  readonly requests: number;
  /** 5xx answers and time-outs. */
  readonly errors: number;
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
  /** Prediction answers looked at, and how many were degenerate; absent when not measured. */
  readonly answers?: { readonly inspected: number; readonly degenerate: number };
}

export type CanaryMetric = 'error_ratio' | 'latency_p50' | 'latency_p99' | 'degenerate_ratio';

/** One metric, canary beside stable, and whether it stayed within its limit. */
export interface CanaryFinding {
  readonly metric: CanaryMetric;
  readonly canary?: number;
  readonly stable?: number;
  /** The most the canary may have, given the stable's value and the threshold. */
  readonly limit?: number;
  /** Undefined: not judged (not measured, or not enough requests yet). */
  readonly passed?: boolean;
  /** In plain words: both values and the threshold. */
  readonly detail: string;
}

/** A judgement of one window: `wait` until there is enough to judge or the hold is over. */
export type CanaryVerdict = 'pass' | 'fail' | 'wait';

export interface CanaryAnalysis {
  readonly from: string;
  /** Where the metrics were complete to (the source's `through`). */
  readonly to: string;
  readonly canary: WindowMetrics;
  readonly stable: WindowMetrics;
  readonly findings: readonly CanaryFinding[];
  readonly verdict: CanaryVerdict;
  /** One sentence: why this verdict. */
  readonly summary: string;
}

/** How a step ended. */
export type CanaryStepVerdict =
  'passed' | 'failed' | 'promoted_by_operator' | 'aborted_by_operator';

export interface CanaryStepRecord {
  /** The canary's traffic percent at this step. */
  readonly percent: number;
  /** When the move to this step was decided. */
  readonly decidedAt: string;
  /** When the platform reported the split serving: the judging window starts here. */
  readonly trafficAt?: string;
  /** The latest judgement of the window (updated at every tick while holding). */
  readonly analysis?: CanaryAnalysis;
  readonly verdict?: CanaryStepVerdict;
  readonly endedAt?: string;
}

/** An operator's `recdeploy promote` / `recdeploy abort`, done at the next tick. */
export interface CanaryOperatorRequest {
  readonly action: 'promote' | 'abort';
  readonly at: string;
  readonly by: string;
}

export interface CanaryOutcome {
  readonly result: 'promoted' | 'aborted';
  /** For an abort: the metric, both values and the threshold, or who aborted and why. */
  readonly reason: string;
  readonly at: string;
}

export interface CanaryState {
  readonly plan: CanaryPlan;
  /** The canary: the run's own revision. */
  readonly revision: string;
  /** The revision that served 100% when the canary began, and its run. */
  readonly stableRevision: string;
  readonly stableRunId?: string;
  readonly phase: CanaryPhase;
  /** Index into plan.steps of the current step. */
  readonly stepIndex: number;
  /** Bumped by every write: the compare-and-set token. */
  readonly seq: number;
  /** One record per step reached, in order. */
  readonly steps: readonly CanaryStepRecord[];
  readonly request?: CanaryOperatorRequest;
  /** Set with the decision to promote or abort. */
  readonly outcome?: CanaryOutcome;
  readonly startedAt: string;
  readonly updatedAt: string;
}

/** The canary's traffic percent the current phase asks for. */
export function wantedCanaryPercent(state: CanaryState): number {
  if (state.phase === 'promoting' || state.phase === 'promoted') return 100;
  if (state.phase === 'aborting' || state.phase === 'aborted') return 0;
  return state.plan.steps[state.stepIndex] ?? 100;
}

/** True once the canary is over (promoted or aborted). */
export function canaryEnded(state: CanaryState): boolean {
  return state.phase === 'promoted' || state.phase === 'aborted';
}
