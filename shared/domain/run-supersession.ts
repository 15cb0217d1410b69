import type { RunDocument } from './run-document.js';

/** Statuses of runs that have served traffic. */
const WAS_LIVE: readonly RunDocument['status'][] = ['live', 'rolled_back', 'replaced'];

/** What the superseded rule needs to know about a run. */
export type SupersessionView = Pick<
  RunDocument,
  | 'runId'
  | 'modelEndpointId'
  | 'runNumber'
  | 'completedAt'
  | 'createdAt'
  | 'status'
  | 'manualDeploy'
>;

/**
 * Orders two runs of one model endpoint by recency: runNumber first, then the
 * training's completedAt, then createdAt (a missing or unreadable time counts
 * as oldest), then runId so that two distinct runs are never equal and exactly
 * one of them is "newer". Negative when `a` is older than `b`.
 */
export function compareRunRecency(a: SupersessionView, b: SupersessionView): number {
  return (
    a.runNumber - b.runNumber ||
    timeOf(a.completedAt) - timeOf(b.completedAt) ||
    timeOf(a.createdAt) - timeOf(b.createdAt) ||
    (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0)
  );
}

/**
 * A run is superseded when another run of the same model endpoint is newer
 * (compareRunRecency) and has been live: its status is `live`, or
 * `rolled_back` or `replaced`, which are only reached from live. Deploying the older run
 * would then put an older model in front of a newer one that was already
 * served, or silently override an operator's rollback.
 *
 * Newer runs that are still in flight do not supersede: they may yet fail
 * verification, and skipping the older run on their account could leave the
 * endpoint on an even older model. The per-service lease serialises the two;
 * whichever goes live second checks this rule again before moving traffic.
 *
 * A run an operator asked to deploy (`recdeploy deploy`) is never superseded:
 * deploying an older run on purpose is what the operator asked for.
 *
 * Returns the newest superseding run, or undefined.
 */
export function findSupersedingRun<T extends SupersessionView>(
  run: SupersessionView,
  others: readonly T[],
): T | undefined {
  if (run.manualDeploy !== undefined) return undefined;
  let newest: T | undefined;
  for (const other of others) {
    if (other.runId === run.runId || other.modelEndpointId !== run.modelEndpointId) continue;
    if (!WAS_LIVE.includes(other.status)) continue;
    if (compareRunRecency(other, run) <= 0) continue;
    if (newest === undefined || compareRunRecency(other, newest) > 0) newest = other;
  }
  return newest;
}

/** True when findSupersedingRun finds a run. */
export function isSuperseded(run: SupersessionView, others: readonly SupersessionView[]): boolean {
  return findSupersedingRun(run, others) !== undefined;
}

function timeOf(iso: string | undefined): number {
  if (iso === undefined) return Number.NEGATIVE_INFINITY;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}
