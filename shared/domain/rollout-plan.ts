/**
 * How a verified revision takes the traffic (docs/architecture.md
 * "Progressive delivery"): `all-at-once` (100% in one move) or `canary`
 * (steps such as 10% → 50% → 100%, each held and judged on live traffic
 * against the stable revision). The operator's policy sets the plan per
 * endpoint; a run may ask for a more careful plan in
 * `deployment_config.rollout`, never a less careful one.
 */
import { PermanentError } from '../errors.js';

export const ROLLOUT_STRATEGIES = ['all-at-once', 'canary'] as const;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

/** When a canary step fails, each against the stable revision over the same window. */
export interface CanaryThresholds {
  /** The canary's error ratio may exceed the stable's by at most this (0.01 = 1 point). */
  readonly maxErrorRatioIncrease: number;
  /** The canary's p50 latency may be at most this multiple of the stable's … */
  readonly maxLatencyP50Ratio: number;
  /** … and its p99 at most this multiple … */
  readonly maxLatencyP99Ratio: number;
  /** … unless the difference is below this many ms (noise at small latencies). */
  readonly latencyToleranceMs: number;
  /** The canary's share of degenerate answers may exceed the stable's by at most this. */
  readonly maxDegenerateIncrease: number;
}

export interface CanaryPlan {
  readonly strategy: 'canary';
  /**
   * The canary's traffic percent at each step, increasing; the last is 100:
   * reaching it is the promotion. Every step before it is held and judged.
   */
  readonly steps: readonly number[];
  /** A step passes no sooner than this after its traffic moved. */
  readonly minHoldS: number;
  /** Requests the canary (and the stable) must have answered in the window before a verdict. */
  readonly minRequests: number;
  /** A step still short of minRequests this long after its traffic moved is aborted. */
  readonly maxHoldS: number;
  readonly thresholds: CanaryThresholds;
}

export type RolloutPlan = { readonly strategy: 'all-at-once' } | CanaryPlan;

/** What a run may ask for in `deployment_config.rollout` (every field optional). */
export interface RolloutRequest {
  readonly strategy?: RolloutStrategy;
  readonly steps?: readonly number[];
  readonly minHoldS?: number;
  readonly minRequests?: number;
  readonly maxHoldS?: number;
  readonly thresholds?: Partial<CanaryThresholds>;
}

/** The operator's rollout policy (ROLLOUT_* variables, chain-config.ts). */
export interface RolloutPolicy {
  /** The plan of endpoints without one of their own. */
  readonly defaultPlan: RolloutPlan;
  /** Plans of named model endpoints. */
  readonly endpointPlans: Readonly<Record<string, RolloutPlan>>;
  /** The canary settings a run gets when it asks for a canary its endpoint's plan does not have. */
  readonly canaryDefaults: CanaryPlan;
}

export const DEFAULT_CANARY_THRESHOLDS: CanaryThresholds = {
  maxErrorRatioIncrease: 0.01,
  maxLatencyP50Ratio: 1.5,
  maxLatencyP99Ratio: 2,
  latencyToleranceMs: 25,
  maxDegenerateIncrease: 0.01,
};

export const DEFAULT_CANARY_PLAN: CanaryPlan = {
  strategy: 'canary',
  steps: [10, 50, 100],
  minHoldS: 300,
  minRequests: 200,
  maxHoldS: 3600,
  thresholds: DEFAULT_CANARY_THRESHOLDS,
};

/** Most steps a canary may have (each is a traffic move and a judgement). */
export const MAX_CANARY_STEPS = 10;

/** The problems of a step list, empty when it is valid. */
export function stepProblems(steps: readonly number[]): string[] {
  const problems: string[] = [];
  if (steps.length < 2 || steps.length > MAX_CANARY_STEPS) {
    problems.push(
      `steps must list 2 to ${MAX_CANARY_STEPS} percents (at least one judged step, then 100)`,
    );
  }
  if (steps.some((p) => !Number.isInteger(p) || p < 1 || p > 100)) {
    problems.push('every step must be a whole percent from 1 to 100');
  }
  if (steps.some((p, i) => i > 0 && p <= (steps[i - 1] ?? 0))) {
    problems.push('steps must increase');
  }
  if (steps.at(-1) !== 100) problems.push('the last step must be 100 (the promotion)');
  return problems;
}

/**
 * The plan a run gets: its endpoint's plan, made more careful where the run
 * asks. @throws PermanentError `ROLLOUT.OUTSIDE_POLICY` naming every part of
 * the request that would make the rollout less careful than the policy, or
 * that is not a valid plan.
 */
export function resolveRolloutPlan(
  policy: RolloutPolicy,
  modelEndpointId: string,
  request: RolloutRequest | undefined,
): RolloutPlan {
  const base = policy.endpointPlans[modelEndpointId] ?? policy.defaultPlan;
  if (request === undefined || Object.keys(request).length === 0) return base;
  const where = `endpoint ${modelEndpointId}`;
  const problems: string[] = [];
  const asksCanary =
    request.strategy === 'canary' ||
    (request.strategy === undefined &&
      (request.steps !== undefined ||
        request.minHoldS !== undefined ||
        request.minRequests !== undefined ||
        request.maxHoldS !== undefined ||
        request.thresholds !== undefined));
  if (request.strategy === 'all-at-once') {
    if (base.strategy === 'canary') {
      problems.push(`the policy of ${where} requires a canary; a run cannot ask for all-at-once`);
    } else {
      return base;
    }
  }
  if (!asksCanary && problems.length === 0) return base;
  // Under an all-at-once policy any canary is more careful: the run's own settings count.
  const floor = base.strategy === 'canary' ? base : undefined;
  const start = floor ?? policy.canaryDefaults;
  const plan = canaryPlanOf(request, start);
  problems.push(...planProblems(plan).map((p) => `rollout.${p}`));
  if (floor !== undefined) problems.push(...looserThan(plan, floor, where));
  if (problems.length > 0) {
    throw new PermanentError(
      'ROLLOUT.OUTSIDE_POLICY',
      `deployment_config.rollout is outside the rollout policy: ${problems.join('; ')}`,
      { metadata: { modelEndpointId } },
    );
  }
  return plan;
}

/** A canary plan: `start` with what `request` sets. */
export function canaryPlanOf(request: RolloutRequest, start: CanaryPlan): CanaryPlan {
  return {
    strategy: 'canary',
    steps: request.steps ?? start.steps,
    minHoldS: request.minHoldS ?? start.minHoldS,
    minRequests: request.minRequests ?? start.minRequests,
    maxHoldS: request.maxHoldS ?? start.maxHoldS,
    thresholds: { ...start.thresholds, ...definedOnly(request.thresholds ?? {}) },
  };
}

/** What makes a canary plan invalid (its steps, its holds), empty when nothing does. */
export function planProblems(plan: CanaryPlan): string[] {
  const problems = stepProblems(plan.steps);
  if (plan.maxHoldS < plan.minHoldS) {
    problems.push(`max_hold_s (${plan.maxHoldS}) must be at least min_hold_s (${plan.minHoldS})`);
  }
  return problems;
}

/** Every way `plan` is less careful than the policy's `floor`. */
function looserThan(plan: CanaryPlan, floor: CanaryPlan, where: string): string[] {
  const problems: string[] = [];
  const first = plan.steps[0] ?? 100;
  const floorFirst = floor.steps[0] ?? 100;
  if (first > floorFirst) {
    problems.push(
      `the first step (${first}%) exposes more traffic than the policy of ${where} allows (${floorFirst}%)`,
    );
  }
  const atLeast = (name: string, value: number, limit: number) => {
    if (value < limit) problems.push(`${name} ${value} is below the policy's ${limit}`);
  };
  const atMost = (name: string, value: number, limit: number) => {
    if (value > limit) problems.push(`${name} ${value} is above the policy's ${limit}`);
  };
  atLeast('min_hold_s', plan.minHoldS, floor.minHoldS);
  atLeast('min_requests', plan.minRequests, floor.minRequests);
  const t = plan.thresholds;
  const f = floor.thresholds;
  atMost('max_error_ratio_increase', t.maxErrorRatioIncrease, f.maxErrorRatioIncrease);
  atMost('max_latency_p50_ratio', t.maxLatencyP50Ratio, f.maxLatencyP50Ratio);
  atMost('max_latency_p99_ratio', t.maxLatencyP99Ratio, f.maxLatencyP99Ratio);
  atMost('latency_tolerance_ms', t.latencyToleranceMs, f.latencyToleranceMs);
  atMost('max_degenerate_increase', t.maxDegenerateIncrease, f.maxDegenerateIncrease);
  return problems;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
