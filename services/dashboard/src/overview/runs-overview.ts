/**
 * What `GET /api/runs` answers: the recent runs, the live revision of every
 * serving service and the recent rejected events, read from the RunStore in
 * one go. The page builds everything it shows from this plus the run events.
 */
import type { RejectedEvent, RunDocument, RunStore } from '@recdeploy/shared';

/** The revision serving a service's traffic, as the run store knows it. */
export interface LiveRevision {
  readonly service: string;
  readonly runId: string;
  readonly modelEndpointId: string;
  readonly runNumber: number;
  readonly revision?: string;
  readonly url?: string;
  /** When the run went live (from its history), else its last update. */
  readonly liveSince: string;
  readonly updatedAt: string;
}

export interface RunsOverview {
  /** Newest first by updatedAt. */
  readonly runs: readonly RunDocument[];
  /** One per serving service, by service name. */
  readonly live: readonly LiveRevision[];
  /** Newest first. */
  readonly rejectedEvents: readonly RejectedEvent[];
  readonly generatedAt: string;
}

export interface OverviewLimits {
  /** Recent runs listed (the store allows at most 500). */
  readonly runs: number;
  readonly rejectedEvents: number;
}

/** Live runs looked at to find each service's live revision (the store's maximum page). */
const LIVE_RUNS_SCANNED = 500;

/** Reads the overview; the three queries run concurrently. */
export async function loadOverview(
  store: RunStore,
  limits: OverviewLimits,
  now: Date = new Date(),
): Promise<RunsOverview> {
  const [runs, liveRuns, rejectedEvents] = await Promise.all([
    store.listRuns({ limit: limits.runs }),
    store.listRuns({ status: 'live', limit: LIVE_RUNS_SCANNED }),
    store.listRejectedEvents(limits.rejectedEvents),
  ]);
  return { runs, live: liveRevisions(liveRuns), rejectedEvents, generatedAt: now.toISOString() };
}

/**
 * The live revision of each service: the newest run (by updatedAt) whose
 * status is `live` and that names the service. Runs that are not live, or
 * have no serving service, are ignored.
 */
export function liveRevisions(runs: readonly RunDocument[]): LiveRevision[] {
  const newest = new Map<string, RunDocument>();
  for (const run of runs) {
    const service = run.serving?.service;
    if (run.status !== 'live' || service === undefined) continue;
    const current = newest.get(service);
    if (current === undefined || run.updatedAt > current.updatedAt) newest.set(service, run);
  }
  return [...newest.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([service, run]) => ({
      service,
      runId: run.runId,
      modelEndpointId: run.modelEndpointId,
      runNumber: run.runNumber,
      ...(run.serving?.revision === undefined ? {} : { revision: run.serving.revision }),
      ...(run.serving?.url === undefined ? {} : { url: run.serving.url }),
      liveSince: run.history.findLast((entry) => entry.to === 'live')?.at ?? run.updatedAt,
      updatedAt: run.updatedAt,
    }));
}
