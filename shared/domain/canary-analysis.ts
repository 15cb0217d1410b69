/**
 * Judges one canary window: each metric of the canary against the stable
 * revision over the same window (not against fixed numbers), so a slow or
 * failing dependency both share does not fail the canary, and a regression
 * the canary alone has does. Pure: the caller reads the metrics.
 */
import type { CanaryAnalysis, CanaryFinding, WindowMetrics } from './canary-state.js';
import type { CanaryPlan } from './rollout-plan.js';

export interface CanaryWindow {
  /** When the step's split began serving. */
  readonly from: Date;
  /** Where the metrics are complete to. */
  readonly through: Date;
}

/**
 * - wait: either revision has fewer than minRequests requests in the window,
 *   or every metric is within its limit and the hold is not over;
 * - fail: with enough requests, a metric is past its limit (at once, hold or not:
 *   a failing canary is not left serving to finish its hold);
 * - pass: enough requests, every measured metric within its limit, hold over.
 */
export function judgeCanaryWindow(
  plan: CanaryPlan,
  canary: WindowMetrics,
  stable: WindowMetrics,
  window: CanaryWindow,
): CanaryAnalysis {
  const base = {
    from: window.from.toISOString(),
    to: window.through.toISOString(),
    canary,
    stable,
  };
  const enough = canary.requests >= plan.minRequests && stable.requests >= plan.minRequests;
  const findings = enough
    ? measuredFindings(plan, canary, stable)
    : [notYet(canary, stable, plan.minRequests)];
  if (!enough) {
    return {
      ...base,
      findings,
      verdict: 'wait',
      summary: `waiting for ${plan.minRequests} requests on each revision: the canary has ${canary.requests}, the stable ${stable.requests}`,
    };
  }
  const failed = findings.filter((finding) => finding.passed === false);
  if (failed.length > 0) {
    return { ...base, findings, verdict: 'fail', summary: failed.map((f) => f.detail).join('; ') };
  }
  const heldS = (window.through.getTime() - window.from.getTime()) / 1000;
  if (heldS < plan.minHoldS) {
    return {
      ...base,
      findings,
      verdict: 'wait',
      summary: `every metric within its limit so far; held ${Math.max(0, Math.floor(heldS))} s of ${plan.minHoldS} s`,
    };
  }
  return {
    ...base,
    findings,
    verdict: 'pass',
    summary: `every measured metric within its limit over ${Math.floor(heldS)} s (${canary.requests} canary and ${stable.requests} stable requests)`,
  };
}

function measuredFindings(
  plan: CanaryPlan,
  canary: WindowMetrics,
  stable: WindowMetrics,
): CanaryFinding[] {
  const t = plan.thresholds;
  return [
    ratioFinding(
      'error_ratio',
      'error ratio (5xx and time-outs)',
      { count: canary.errors, of: canary.requests },
      { count: stable.errors, of: stable.requests },
      t.maxErrorRatioIncrease,
      'requests',
    ),
    latencyFinding(
      'latency_p50',
      canary.latencyP50Ms,
      stable.latencyP50Ms,
      t.maxLatencyP50Ratio,
      t.latencyToleranceMs,
    ),
    latencyFinding(
      'latency_p99',
      canary.latencyP99Ms,
      stable.latencyP99Ms,
      t.maxLatencyP99Ratio,
      t.latencyToleranceMs,
    ),
    degenerateFinding(canary, stable, t.maxDegenerateIncrease),
  ];
}

function notYet(canary: WindowMetrics, stable: WindowMetrics, min: number): CanaryFinding {
  return {
    metric: 'error_ratio',
    detail: `not judged yet: ${canary.requests} canary and ${stable.requests} stable requests, ${min} needed on each`,
  };
}

interface Share {
  readonly count: number;
  readonly of: number;
}

function ratioFinding(
  metric: CanaryFinding['metric'],
  name: string,
  canary: Share,
  stable: Share,
  maxIncrease: number,
  unit: string,
): CanaryFinding {
  const canaryRatio = canary.of === 0 ? 0 : canary.count / canary.of;
  const stableRatio = stable.of === 0 ? 0 : stable.count / stable.of;
  const limit = stableRatio + maxIncrease;
  // A hair of tolerance so a ratio exactly at the limit passes despite floating point.
  const passed = canaryRatio <= limit + 1e-12;
  const values = `${name} ${pct(canaryRatio)} on the canary (${canary.count} of ${canary.of} ${unit}) against ${pct(stableRatio)} on the stable (${stable.count} of ${stable.of})`;
  return {
    metric,
    canary: canaryRatio,
    stable: stableRatio,
    limit,
    passed,
    detail: `${values}: ${passed ? 'within' : 'above'} the limit of ${pct(limit)} (the stable's + ${points(maxIncrease)})`,
  };
}

function latencyFinding(
  metric: 'latency_p50' | 'latency_p99',
  canary: number | undefined,
  stable: number | undefined,
  maxRatio: number,
  toleranceMs: number,
): CanaryFinding {
  const name = metric === 'latency_p50' ? 'p50 latency' : 'p99 latency';
  if (canary === undefined || stable === undefined) {
    return {
      metric,
      detail: `${name} not measured on ${canary === undefined ? 'the canary' : 'the stable'}`,
    };
  }
  const limit = Math.max(stable * maxRatio, stable + toleranceMs);
  const passed = canary <= limit;
  return {
    metric,
    canary,
    stable,
    limit,
    passed,
    detail: `${name} ${ms(canary)} on the canary against ${ms(stable)} on the stable: ${passed ? 'within' : 'above'} the limit of ${ms(limit)} (${maxRatio}× the stable's, and never less than the stable's + ${ms(toleranceMs)})`,
  };
}

function degenerateFinding(
  canary: WindowMetrics,
  stable: WindowMetrics,
  maxIncrease: number,
): CanaryFinding {
  const c = canary.answers;
  const s = stable.answers;
  if (c === undefined || s === undefined || c.inspected === 0 || s.inspected === 0) {
    return {
      metric: 'degenerate_ratio',
      detail:
        'degenerate answers not measured (this metrics source cannot see the answers of both revisions)',
    };
  }
  return ratioFinding(
    'degenerate_ratio',
    'share of degenerate answers (no ids, fewer than k, all scores equal)',
    { count: c.degenerate, of: c.inspected },
    { count: s.degenerate, of: s.inspected },
    maxIncrease,
    'answers',
  );
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 2 : 1)}%`;
}

function points(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} points`;
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}
