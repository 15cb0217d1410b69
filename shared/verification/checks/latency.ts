/**
 * `latency`: after a few warm-up calls (the first requests of a revision pay
 * for lazy initialisation and connection set-up, which production traffic
 * pays once), `latencySamples` sequential single-instance predicts cycling
 * through the bundle's examples; their p50 and p99 (nearest rank) must stay
 * within the budgets. Sequential on purpose: this measures the latency one
 * client sees, not throughput, and does not load a revision that is not yet
 * serving traffic.
 */
import type { VerificationCheck } from '../../domain/run-document.js';
import { CHECK_NAMES } from '../check-names.js';
import { checkResult, type CheckContext } from '../check-context.js';
import { roundMs } from '../format.js';
import { latencySummary } from '../percentiles.js';
import { describeFailure } from '../revision-client.js';

/** Unmeasured predicts before sampling. */
export const WARM_UP_CALLS = 3;

export interface LatencyMeasurement {
  readonly check: VerificationCheck;
  /** Set when every sample was answered, passed or not. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

export async function checkLatency(context: CheckContext): Promise<LatencyMeasurement> {
  const fail = (detail: string) => ({ check: checkResult(CHECK_NAMES.latency, false, detail) });
  const { examples } = context.bundle;
  if (examples.length === 0) {
    return fail('not run: the bundle has no example instances (see smoke_predictions)');
  }
  const { latencySamples, latencyP50BudgetMs, latencyP99BudgetMs } = context.thresholds;
  // One cycle through the examples runs on from the warm-ups into the samples.
  let next = 0;
  const instance = () => examples[next++ % examples.length];
  for (let i = 0; i < WARM_UP_CALLS; i++) {
    const result = await context.client.predict([instance()]);
    if ('failure' in result || result.answer.status !== 200) {
      return fail(`warm-up predict ${i + 1} of ${WARM_UP_CALLS}: ${describeFailure(result)}`);
    }
  }
  const samples: number[] = [];
  for (let i = 0; i < latencySamples; i++) {
    const result = await context.client.predict([instance()]);
    if ('failure' in result || result.answer.status !== 200) {
      return fail(`predict ${i + 1} of ${latencySamples}: ${describeFailure(result)}`);
    }
    samples.push(result.answer.ms);
  }
  const summary = latencySummary(samples);
  const p50Ms = roundMs(summary.p50);
  const p99Ms = roundMs(summary.p99);
  const over = [
    ...(summary.p50 > latencyP50BudgetMs ? [`p50 exceeds its budget`] : []),
    ...(summary.p99 > latencyP99BudgetMs ? [`p99 exceeds its budget`] : []),
  ];
  const measured =
    `p50 ${p50Ms} ms (budget ${latencyP50BudgetMs} ms), p99 ${p99Ms} ms ` +
    `(budget ${latencyP99BudgetMs} ms) over ${latencySamples} sequential single-instance ` +
    `predicts after ${WARM_UP_CALLS} warm-ups`;
  return {
    check: checkResult(
      CHECK_NAMES.latency,
      over.length === 0,
      over.length === 0 ? measured : `${over.join(' and ')}: ${measured}`,
    ),
    p50Ms,
    p99Ms,
  };
}
