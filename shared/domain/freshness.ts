/**
 * Freshness (docs/architecture.md "Freshness"): how stale an endpoint's live
 * model may get, and which limits it passes now. Pure: the reconciler passes
 * the clock in (shared/usecases/freshness-ticks.ts).
 *
 * - max_age: the live run's training ended longer ago than the limit.
 * - max_lag: a run whose training ended after the live run's has not gone
 *   live within the limit, counted from its training's end. Every such run
 *   counts (unblessed, failed, rolled back, still in flight: each is why the
 *   model is stale) except a run skipped as superseded (findSupersedingRun
 *   finds a newer run that has been live: the newer model it waited for came
 *   after it, so that run, if not live now, is counted instead). The breach
 *   starts at the oldest counted run's training end plus the limit.
 *
 * A run's training end is its `completedAt` (the message's completed_at);
 * without one, its `createdAt`, and the detail says so. An endpoint with no
 * live run is not checked: nothing it serves can be stale.
 */
import type { RunDocument, RunStatus } from './run-document.js';
import { findSupersedingRun } from './run-supersession.js';
import { formatDuration } from './duration-text.js';

export const FRESHNESS_KINDS = ['max_age', 'max_lag'] as const;
export type FreshnessKind = (typeof FRESHNESS_KINDS)[number];

/** The setting behind each limit (FRESHNESS_ENDPOINTS may override it per endpoint). */
export const FRESHNESS_LIMIT_SETTINGS: Readonly<Record<FreshnessKind, string>> = {
  max_age: 'FRESHNESS_MAX_AGE',
  max_lag: 'FRESHNESS_MAX_LAG',
};

/** A limit as people read it: `FRESHNESS_MAX_AGE (7d)`. */
export function freshnessLimitText(kind: FreshnessKind, thresholdS: number): string {
  return `${FRESHNESS_LIMIT_SETTINGS[kind]} (${formatDuration(thresholdS * 1000)})`;
}

/** One endpoint's limits, in milliseconds; an absent limit is not checked. */
export interface FreshnessLimits {
  readonly maxAgeMs?: number;
  readonly maxLagMs?: number;
}

/** The operator's policy: limits for every endpoint, and endpoints that differ. */
export interface FreshnessPolicy {
  readonly defaults: FreshnessLimits;
  readonly endpoints: Readonly<Record<string, FreshnessLimits>>;
}

/** The limits that apply to `modelEndpointId`. */
export function freshnessLimitsFor(
  policy: FreshnessPolicy,
  modelEndpointId: string,
): FreshnessLimits {
  return policy.endpoints[modelEndpointId] ?? policy.defaults;
}

/** True when some endpoint has a limit (otherwise no run needs reading). */
export function freshnessChecksAnything(policy: FreshnessPolicy): boolean {
  const any = (limits: FreshnessLimits) =>
    limits.maxAgeMs !== undefined || limits.maxLagMs !== undefined;
  return any(policy.defaults) || Object.values(policy.endpoints).some(any);
}

/** A run with the time its training ended. */
export interface RunTrainingEnd {
  readonly runId: string;
  readonly status: RunStatus;
  /** ISO time: completedAt, else createdAt. */
  readonly trainingCompletedAt: string;
  /** False when the run has no completedAt and its createdAt stands in. */
  readonly completedAtKnown: boolean;
}

/** A limit an endpoint passes now. */
export interface FreshnessBreach {
  readonly modelEndpointId: string;
  readonly kind: FreshnessKind;
  readonly thresholdMs: number;
  /** When the limit was passed: the training end it is counted from plus the limit. */
  readonly breachedSince: string;
  readonly liveRun: RunTrainingEnd;
  /** max_lag: the oldest newer run that has not gone live. */
  readonly newestRun?: RunTrainingEnd;
  /** One line: what is stale and by how much. */
  readonly detail: string;
}

export interface FreshnessInput {
  readonly limits: FreshnessLimits;
  /** The run the endpoint's serving record says is live. */
  readonly liveRun: RunDocument | undefined;
  /** The endpoint's recent runs (the live one may be among them). */
  readonly runs: readonly RunDocument[];
  readonly now: Date;
}

/** The stable id of one breach: endpoint, kind and when it started. */
export function freshnessAlertId(
  breach: Pick<FreshnessBreach, 'modelEndpointId' | 'kind' | 'breachedSince'>,
): string {
  return `${breach.modelEndpointId}:${breach.kind}:${breach.breachedSince}`;
}

/** The limits the endpoint passes at `now` (none, one or both). */
export function freshnessBreaches(input: FreshnessInput): FreshnessBreach[] {
  const { limits, liveRun, now } = input;
  if (liveRun === undefined) return [];
  const live = trainingEndOf(liveRun);
  const breaches: FreshnessBreach[] = [];
  if (limits.maxAgeMs !== undefined) {
    const since = Date.parse(live.trainingCompletedAt) + limits.maxAgeMs;
    // At exactly the limit the model is as old as allowed, not older.
    if (now.getTime() > since) {
      breaches.push({
        modelEndpointId: liveRun.modelEndpointId,
        kind: 'max_age',
        thresholdMs: limits.maxAgeMs,
        breachedSince: new Date(since).toISOString(),
        liveRun: live,
        detail: `the live run ${live.runId} ${endedPhrase(live, now)} (limit ${formatDuration(limits.maxAgeMs)})`,
      });
    }
  }
  if (limits.maxLagMs !== undefined) {
    const waiting = waitingRuns(liveRun, input.runs);
    const oldest = waiting[0];
    const since = oldest && Date.parse(oldest.trainingCompletedAt) + limits.maxLagMs;
    if (oldest !== undefined && since !== undefined && now.getTime() > since) {
      const more = waiting.length > 1 ? ` (and ${waiting.length - 1} newer)` : '';
      breaches.push({
        modelEndpointId: liveRun.modelEndpointId,
        kind: 'max_lag',
        thresholdMs: limits.maxLagMs,
        breachedSince: new Date(since).toISOString(),
        liveRun: live,
        newestRun: oldest,
        detail: `${oldest.runId} (${oldest.status})${more} ${endedPhrase(oldest, now)} and is not live; the live run is ${live.runId} (limit ${formatDuration(limits.maxLagMs)})`,
      });
    }
  }
  return breaches;
}

/** Runs that ended training after the live run and have not replaced it, oldest first. */
function waitingRuns(liveRun: RunDocument, runs: readonly RunDocument[]): RunTrainingEnd[] {
  const liveEnd = Date.parse(trainingEndOf(liveRun).trainingCompletedAt);
  const ofEndpoint = runs.filter((run) => run.modelEndpointId === liveRun.modelEndpointId);
  return ofEndpoint
    .filter((run) => run.runId !== liveRun.runId && run.status !== 'live')
    .filter((run) => !(run.status === 'skipped' && findSupersedingRun(run, ofEndpoint)))
    .map(trainingEndOf)
    .filter((run) => Date.parse(run.trainingCompletedAt) > liveEnd)
    .sort(
      (a, b) =>
        Date.parse(a.trainingCompletedAt) - Date.parse(b.trainingCompletedAt) ||
        (a.runId < b.runId ? -1 : 1),
    );
}

/** The run's training end: completedAt when it is a readable time, else createdAt. */
export function trainingEndOf(run: RunDocument): RunTrainingEnd {
  const completed = run.completedAt === undefined ? Number.NaN : Date.parse(run.completedAt);
  const known = !Number.isNaN(completed);
  return {
    runId: run.runId,
    status: run.status,
    trainingCompletedAt: new Date(known ? completed : Date.parse(run.createdAt)).toISOString(),
    completedAtKnown: known,
  };
}

function endedPhrase(run: RunTrainingEnd, now: Date): string {
  const ago = formatDuration(now.getTime() - Date.parse(run.trainingCompletedAt));
  return run.completedAtKnown
    ? `finished training ${ago} ago`
    : `has no training end time; it was received ${ago} ago`;
}
