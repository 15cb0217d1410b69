/**
 * `deployment_config.rollout` (and the ROLLOUT_ENDPOINTS policy entries,
 * which share its shape) between the wire (snake_case, events package) and
 * the domain (camelCase, rollout-plan.ts).
 */
import type { RolloutV1 } from '@recdeploy/events';
import type { CanaryThresholds, RolloutRequest } from '../domain/rollout-plan.js';

export function rolloutRequestOf(wire: RolloutV1): RolloutRequest {
  const thresholds = definedOnly<CanaryThresholds>({
    maxErrorRatioIncrease: wire.max_error_ratio_increase,
    maxLatencyP50Ratio: wire.max_latency_p50_ratio,
    maxLatencyP99Ratio: wire.max_latency_p99_ratio,
    latencyToleranceMs: wire.latency_tolerance_ms,
    maxDegenerateIncrease: wire.max_degenerate_increase,
  });
  return {
    ...definedOnly({
      strategy: wire.strategy,
      steps: wire.steps === undefined ? undefined : [...wire.steps],
      minHoldS: wire.min_hold_s,
      minRequests: wire.min_requests,
      maxHoldS: wire.max_hold_s,
    }),
    ...(Object.keys(thresholds).length === 0 ? {} : { thresholds }),
  };
}

export function wireRolloutOf(request: RolloutRequest): RolloutV1 {
  const t = request.thresholds ?? {};
  return definedOnly<RolloutV1>({
    strategy: request.strategy,
    steps: request.steps === undefined ? undefined : [...request.steps],
    min_hold_s: request.minHoldS,
    min_requests: request.minRequests,
    max_hold_s: request.maxHoldS,
    max_error_ratio_increase: t.maxErrorRatioIncrease,
    max_latency_p50_ratio: t.maxLatencyP50Ratio,
    max_latency_p99_ratio: t.maxLatencyP99Ratio,
    latency_tolerance_ms: t.latencyToleranceMs,
    max_degenerate_increase: t.maxDegenerateIncrease,
  });
}

function definedOnly<T>(value: { [K in keyof T]?: T[K] | undefined }): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
