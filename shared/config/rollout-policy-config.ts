/**
 * The operator's rollout policy from the environment (docs/architecture.md
 * "Progressive delivery"): ROLLOUT_STRATEGY for every endpoint, the CANARY_*
 * settings of a canary, and ROLLOUT_ENDPOINTS for endpoints that differ
 * (a JSON object: endpoint id → the same fields as deployment_config.rollout).
 */
import { RolloutV1Schema } from '@recdeploy/events';
import { Type, type Static } from '@sinclair/typebox';
import {
  DEFAULT_CANARY_PLAN,
  DEFAULT_CANARY_THRESHOLDS,
  canaryPlanOf,
  planProblems,
  stepProblems,
  type CanaryPlan,
  type RolloutPlan,
  type RolloutPolicy,
  type RolloutRequest,
} from '../domain/rollout-plan.js';
import { endpointsJsonOf } from './endpoint-json.js';
import { rolloutRequestOf } from './rollout-wire.js';

const Ratio = (value: number, description: string) =>
  Type.Number({ default: value, minimum: 0, maximum: 1, description });
const Factor = (value: number, description: string) =>
  Type.Number({ default: value, minimum: 1, maximum: 100, description });

export const RolloutEnvProperties = {
  /** all-at-once (default: 100% in one move) or canary, for endpoints not in ROLLOUT_ENDPOINTS. */
  ROLLOUT_STRATEGY: Type.Union([Type.Literal('all-at-once'), Type.Literal('canary')], {
    default: 'all-at-once',
  }),
  /** Endpoints with a plan of their own: {"endpoint-id": {"strategy": "canary", "steps": [5, 50, 100]}}. */
  ROLLOUT_ENDPOINTS: Type.Optional(Type.String({ minLength: 2 })),
  /**
   * The canary's percent at each step, ending at 100, separated by commas,
   * semicolons or spaces (`10;50;100` fits gcloud's --set-env-vars, which
   * splits on commas).
   */
  CANARY_STEPS: Type.String({
    default: DEFAULT_CANARY_PLAN.steps.join(','),
    pattern: '^[0-9 ,;]+$',
  }),
  CANARY_MIN_HOLD_S: Type.Integer({
    default: DEFAULT_CANARY_PLAN.minHoldS,
    minimum: 0,
    maximum: 86_400,
  }),
  CANARY_MIN_REQUESTS: Type.Integer({
    default: DEFAULT_CANARY_PLAN.minRequests,
    minimum: 1,
    maximum: 10_000_000,
  }),
  CANARY_MAX_HOLD_S: Type.Integer({
    default: DEFAULT_CANARY_PLAN.maxHoldS,
    minimum: 1,
    maximum: 604_800,
  }),
  CANARY_MAX_ERROR_RATIO_INCREASE: Ratio(DEFAULT_CANARY_THRESHOLDS.maxErrorRatioIncrease, 'ratio'),
  CANARY_MAX_LATENCY_P50_RATIO: Factor(DEFAULT_CANARY_THRESHOLDS.maxLatencyP50Ratio, 'factor'),
  CANARY_MAX_LATENCY_P99_RATIO: Factor(DEFAULT_CANARY_THRESHOLDS.maxLatencyP99Ratio, 'factor'),
  CANARY_LATENCY_TOLERANCE_MS: Type.Number({
    default: DEFAULT_CANARY_THRESHOLDS.latencyToleranceMs,
    minimum: 0,
    maximum: 60_000,
  }),
  CANARY_MAX_DEGENERATE_INCREASE: Ratio(DEFAULT_CANARY_THRESHOLDS.maxDegenerateIncrease, 'ratio'),
  /** Local stack: how often canaries are looked at (the cloud's tick is Cloud Scheduler's minute). */
  CANARY_TICK_S: Type.Number({ default: 5, exclusiveMinimum: 0, maximum: 600 }),
};

type RolloutVars = Static<ReturnType<typeof Type.Object<typeof RolloutEnvProperties>>>;

/** The policy, or the list of problems with the variables (reported with the others at cold start). */
export function rolloutPolicyOf(vars: RolloutVars): RolloutPolicy | string[] {
  const problems: string[] = [];
  const steps = vars.CANARY_STEPS.split(/[,; ]/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
  problems.push(...stepProblems(steps).map((p) => `CANARY_STEPS=${vars.CANARY_STEPS}: ${p}`));
  const canaryDefaults: CanaryPlan = {
    strategy: 'canary',
    steps,
    minHoldS: vars.CANARY_MIN_HOLD_S,
    minRequests: vars.CANARY_MIN_REQUESTS,
    maxHoldS: vars.CANARY_MAX_HOLD_S,
    thresholds: {
      maxErrorRatioIncrease: vars.CANARY_MAX_ERROR_RATIO_INCREASE,
      maxLatencyP50Ratio: vars.CANARY_MAX_LATENCY_P50_RATIO,
      maxLatencyP99Ratio: vars.CANARY_MAX_LATENCY_P99_RATIO,
      latencyToleranceMs: vars.CANARY_LATENCY_TOLERANCE_MS,
      maxDegenerateIncrease: vars.CANARY_MAX_DEGENERATE_INCREASE,
    },
  };
  if (canaryDefaults.maxHoldS < canaryDefaults.minHoldS) {
    problems.push(
      `CANARY_MAX_HOLD_S (${canaryDefaults.maxHoldS}) must be at least CANARY_MIN_HOLD_S (${canaryDefaults.minHoldS})`,
    );
  }
  const defaultPlan: RolloutPlan =
    vars.ROLLOUT_STRATEGY === 'canary' ? canaryDefaults : { strategy: 'all-at-once' };
  const endpointPlans: Record<string, RolloutPlan> = {};
  const wires = endpointsJsonOf(
    'ROLLOUT_ENDPOINTS',
    vars.ROLLOUT_ENDPOINTS,
    RolloutV1Schema,
    problems,
  );
  for (const [endpoint, wire] of Object.entries(wires)) {
    const plan = endpointPlan(rolloutRequestOf(wire), canaryDefaults);
    if (typeof plan === 'string') problems.push(`ROLLOUT_ENDPOINTS.${endpoint}: ${plan}`);
    else endpointPlans[endpoint] = plan;
  }
  if (problems.length > 0) return problems;
  return { defaultPlan, endpointPlans, canaryDefaults };
}

/** An endpoint's own plan: the operator sets it, so no floor applies, only validity. */
function endpointPlan(request: RolloutRequest, canaryDefaults: CanaryPlan): RolloutPlan | string {
  if (request.strategy === 'all-at-once') return { strategy: 'all-at-once' };
  const plan = canaryPlanOf(request, canaryDefaults);
  const problems = planProblems(plan);
  return problems.length > 0 ? problems.join('; ') : plan;
}
