/**
 * A canary in words, for `recdeploy status` (and `status --watch`): where it
 * stands, one line per step reached (its share of traffic, how long its
 * window has held, the metrics canary beside stable, and the verdict or,
 * while it holds, the latest judgement), the operator's request and the
 * outcome with its reason. Everything comes from the run's canary state;
 * nothing is recomputed, so the CLI says what the tick decided.
 */
import type {
  CanaryAnalysis,
  CanaryState,
  CanaryStepRecord,
  WindowMetrics,
} from '@recdeploy/shared';
import { formatAge, formatDuration } from './durations.js';

/** The canary block of `status`: a heading line, then indented lines. */
export function describeCanary(canary: CanaryState, now: Date): string[] {
  const stable = canary.stableRunId === undefined ? '' : ` (run ${canary.stableRunId})`;
  return [
    `canary    ${phaseWords(canary)}: revision ${canary.revision} against stable ${canary.stableRevision}${stable}`,
    ...[
      `plan      ${planWords(canary)}`,
      ...canary.steps.map((step, index) => stepLine(canary, index, step, now)),
      ...(canary.request === undefined ? [] : [`request   ${requestWords(canary, now)}`]),
      ...(canary.outcome === undefined ? [] : [`outcome   ${outcomeWords(canary, now)}`]),
    ].map((line) => `  ${line}`),
  ];
}

/**
 * `step 1/2  10%  held 42 s  canary: 1 203 req, errors 0.2%, …  | stable: …  → passed`;
 * a step whose traffic is still moving says so instead of a window.
 */
export function stepLine(
  canary: CanaryState,
  index: number,
  step: CanaryStepRecord,
  now: Date,
): string {
  const label = `step ${index + 1}/${judgedSteps(canary)}  ${`${step.percent}%`.padStart(3)}`;
  if (step.trafficAt === undefined) {
    const decided = formatDuration(Math.max(0, now.getTime() - Date.parse(step.decidedAt)));
    const ending = step.verdict === undefined ? '' : `  → ${verdictWords(step)}`;
    return `${label}  moving traffic (decided ${decided} ago)${ending}`;
  }
  const end = step.endedAt === undefined ? now.getTime() : Date.parse(step.endedAt);
  const held = formatDuration(Math.max(0, end - Date.parse(step.trafficAt)));
  const metrics = step.analysis === undefined ? '' : `  ${sideBySide(step.analysis)}`;
  return `${label}  held ${held}${metrics}  → ${verdictWords(step)}`;
}

/** `canary: 1 203 req, errors 0.2%, p50 4 ms, p99 19 ms, degenerate 0.0%  | stable: …`. */
export function sideBySide(analysis: CanaryAnalysis): string {
  return `canary: ${windowWords(analysis.canary)}  | stable: ${windowWords(analysis.stable)}`;
}

/** One revision's window: requests, error ratio, p50, p99, degenerate share (`-`: not measured). */
export function windowWords(metrics: WindowMetrics): string {
  const answers = metrics.answers;
  return [
    `${groupDigits(metrics.requests)} req`,
    `errors ${metrics.requests === 0 ? '-' : percent(metrics.errors / metrics.requests)}`,
    `p50 ${milliseconds(metrics.latencyP50Ms)}`,
    `p99 ${milliseconds(metrics.latencyP99Ms)}`,
    `degenerate ${answers === undefined || answers.inspected === 0 ? '-' : percent(answers.degenerate / answers.inspected)}`,
  ].join(', ');
}

/** How a step ended, or `judging… <the latest judgement>` while its window runs. */
export function verdictWords(step: CanaryStepRecord): string {
  switch (step.verdict) {
    case 'passed':
      return 'passed';
    case 'failed':
      return `failed: ${step.analysis?.summary ?? 'no reading'}`;
    case 'promoted_by_operator':
      return 'promoted by the operator';
    case 'aborted_by_operator':
      return 'aborted by the operator';
    case undefined:
      return `judging… ${step.analysis?.summary ?? 'no metrics read yet'}`;
  }
}

/** `holding step 1 of 2 (10% of traffic)`, `aborting (…)`, `promoted`. */
export function phaseWords(canary: CanaryState): string {
  const step = `step ${canary.stepIndex + 1} of ${judgedSteps(canary)} (${canary.plan.steps[canary.stepIndex] ?? 100}% of traffic)`;
  switch (canary.phase) {
    case 'moving':
      return `moving traffic for ${step}`;
    case 'holding':
      return `holding ${step}`;
    case 'promoting':
      return 'promoting (moving all traffic to the canary)';
    case 'aborting':
      return 'aborting (moving all traffic back to the stable)';
    case 'promoted':
      return 'promoted';
    case 'aborted':
      return 'aborted';
  }
}

/**
 * For the runs table's notes: `canary holding step 1/2 (10%)`, `canary
 * aborting`, and `; abort requested` while a request waits for its tick.
 */
export function canaryNote(canary: CanaryState): string {
  const step = `step ${canary.stepIndex + 1}/${judgedSteps(canary)} (${canary.plan.steps[canary.stepIndex] ?? 100}%)`;
  const pending = canary.phase === 'moving' || canary.phase === 'holding';
  const where =
    canary.phase === 'holding'
      ? `holding ${step}`
      : canary.phase === 'moving'
        ? `moving to ${step}`
        : canary.phase;
  const request = canary.request;
  return `canary ${where}${pending && request !== undefined ? `; ${request.action} requested` : ''}`;
}

/** The operator's request, and whether a tick has carried it out yet. */
export function requestWords(canary: CanaryState, now: Date): string {
  const request = canary.request;
  if (request === undefined) return '-';
  const pending = canary.phase === 'moving' || canary.phase === 'holding';
  return `${request.action} by ${request.by} at ${request.at} (${formatAge(request.at, now)} ago): ${pending ? 'waiting for the next canary tick' : 'carried out'}`;
}

/** `aborted at …: <reason>`; while the end is being made, what is being done. */
export function outcomeWords(canary: CanaryState, now: Date): string {
  const outcome = canary.outcome;
  if (outcome === undefined) return '-';
  const when = `${outcome.at} (${formatAge(outcome.at, now)} ago)`;
  const done = canary.phase === 'promoted' || canary.phase === 'aborted';
  const state = done ? outcome.result : outcome.result === 'promoted' ? 'promoting' : 'aborting';
  return `${state}, decided at ${when}: ${outcome.reason}`;
}

/** `10% → 50% → 100%, each step held ≥ 300 s with ≥ 200 requests on each revision (…)`. */
function planWords(canary: CanaryState): string {
  const plan = canary.plan;
  const steps = plan.steps.map((p) => `${p}%`).join(' → ');
  return `${steps}, each step held ≥ ${plan.minHoldS} s with ≥ ${plan.minRequests} requests on each revision (aborted when still short after ${plan.maxHoldS} s)`;
}

/** Steps counted without the final 100% (reaching it is the promotion, not a judged step). */
function judgedSteps(canary: CanaryState): number {
  return Math.max(1, canary.plan.steps.length - 1);
}

/** `1 203`, `10 811`: grouped with spaces so the count reads at a glance. */
function groupDigits(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** `0.2%`; two decimals below 0.1%, so a small non-zero share does not read as 0.0%. */
function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 2 : 1)}%`;
}

function milliseconds(value: number | undefined): string {
  if (value === undefined) return '-';
  return `${value < 10 && !Number.isInteger(value) ? value.toFixed(1) : Math.round(value)} ms`;
}
