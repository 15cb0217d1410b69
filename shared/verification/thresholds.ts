/**
 * What a revision must meet to be promoted, and how long the verifier waits.
 * The defaults are the values the verify step uses unless configured.
 */
import { ConfigError } from '../errors.js';

export interface VerificationThresholds {
  /** How long `model_available` keeps polling the status endpoint for AVAILABLE. */
  readonly readyTimeoutMs: number;
  /** Timeout of every single HTTP request to the revision. */
  readonly requestTimeoutMs: number;
  /** Sequential single-instance predicts measured by the `latency` check. */
  readonly latencySamples: number;
  /** Budget for the median of those predicts, client-side wall clock. */
  readonly latencyP50BudgetMs: number;
  /** Budget for their 99th percentile (nearest rank: with 50 samples, the slowest). */
  readonly latencyP99BudgetMs: number;
  /** Queries the `ann_recall` check compares against exact search. */
  readonly recallQueries: number;
  /** Lowest acceptable mean recall@k of the revision against exact search, in [0, 1]. */
  readonly minRecall: number;
  /**
   * All checks of one verification together, readiness wait included: what
   * is still running then fails, and what has not run is not run.
   */
  readonly checksTimeoutMs: number;
}

/**
 * - readyTimeoutMs 60 s: Cloud Run reports a revision Ready once its startup
 *   probe on the status endpoint passed, so the model should already be
 *   AVAILABLE; the minute covers a revision that is still starting when the
 *   tag URL is first reached (cold start, bundle download, index load).
 * - requestTimeoutMs 10 s: a predict takes milliseconds; ten seconds only
 *   absorbs a cold instance, and a hung revision cannot stall the step.
 * - latencySamples 50: enough for a stable median in about a second against a
 *   healthy revision, few enough to add no noticeable load.
 * - latencyP50BudgetMs 200 / latencyP99BudgetMs 1000: interactive retrieval
 *   budgets, measured from the verifier through the Cloud Run front end, so
 *   they include the network; the server itself answers in single-digit ms.
 * - recallQueries 100: recall@k of a single query varies widely; the mean
 *   over 100 keeps sampling noise small against the slack below, for four
 *   predict requests of up to 32 instances.
 * - minRecall 0.9: the index build calibrates ef for a mean recall@k of 0.96
 *   on its own 300 calibration queries; here other queries (another seed) are
 *   sent over HTTP through the whole serving path, so some slack is allowed,
 *   while a wrong index (other embeddings, broken graph) falls far below it.
 * - checksTimeoutMs 300 s: a healthy revision passes every check in seconds;
 *   each request alone may take requestTimeoutMs, so a revision that answers
 *   everything slowly could otherwise hold the verify function for a quarter
 *   of an hour, past its timeout, and the redelivered event would do it all
 *   again. Five minutes plus the traffic move fit the verify function's 540 s
 *   with its margin (deploy/delivery-budget.ts).
 */
export const DEFAULT_VERIFICATION_THRESHOLDS: Readonly<VerificationThresholds> = Object.freeze({
  readyTimeoutMs: 60_000,
  requestTimeoutMs: 10_000,
  latencySamples: 50,
  latencyP50BudgetMs: 200,
  latencyP99BudgetMs: 1000,
  recallQueries: 100,
  minRecall: 0.9,
  checksTimeoutMs: 300_000,
});

/** What is wrong with `thresholds` (empty when they are usable). */
export function thresholdProblems(thresholds: VerificationThresholds): string[] {
  const problems: string[] = [];
  const positive = (name: keyof VerificationThresholds, integer: boolean) => {
    const value = thresholds[name];
    const ok = Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value));
    if (!ok)
      problems.push(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  };
  positive('readyTimeoutMs', false);
  positive('requestTimeoutMs', false);
  positive('latencySamples', true);
  positive('latencyP50BudgetMs', false);
  positive('latencyP99BudgetMs', false);
  positive('recallQueries', true);
  positive('checksTimeoutMs', false);
  if (thresholds.readyTimeoutMs >= thresholds.checksTimeoutMs) {
    problems.push(
      `readyTimeoutMs (${thresholds.readyTimeoutMs}) must be less than checksTimeoutMs (${thresholds.checksTimeoutMs}), which includes it`,
    );
  }
  const { minRecall } = thresholds;
  if (!(Number.isFinite(minRecall) && minRecall >= 0 && minRecall <= 1)) {
    problems.push(`minRecall must be in [0, 1], got ${minRecall}`);
  }
  return problems;
}

/** Throws `ConfigError` (CONFIG.INVALID) listing every problem of `thresholds`. */
export function assertValidThresholds(thresholds: VerificationThresholds): void {
  const problems = thresholdProblems(thresholds).map((p) => `verification threshold ${p}`);
  if (problems.length > 0) throw new ConfigError(problems);
}
