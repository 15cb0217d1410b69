/**
 * What `GET /api/runs` answers: the recent runs, the serving record of every
 * service, the recent rejected events and the open freshness alerts, read
 * from the RunStore in one go.
 * What serves comes from the serving records (what the platform observes:
 * DESIGN.md §4 "Convergence and truth"), never from scanning run statuses.
 * The page builds everything it shows from this plus the live events.
 */
import type {
  FreshnessAlert,
  RejectedEvent,
  RunDocument,
  RunStore,
  ServingRecord,
} from '@recdeploy/shared';

export interface RunsOverview {
  /** Newest first by updatedAt. */
  readonly runs: readonly RunDocument[];
  /** One per serving service, by service name, as stored. */
  readonly serving: readonly ServingRecord[];
  /** Newest first, at most rejectedEventsLimit. */
  readonly rejectedEvents: readonly RejectedEvent[];
  /** How many rejected events were asked for: a page counting them counts within these. */
  readonly rejectedEventsLimit: number;
  /** Endpoints whose live model is staler than the operator allows, oldest breach first. */
  readonly freshnessAlerts: readonly FreshnessAlert[];
  readonly generatedAt: string;
}

export interface OverviewLimits {
  /** Recent runs listed (the store allows at most 500). */
  readonly runs: number;
  readonly rejectedEvents: number;
}

/** Reads the overview; the queries run concurrently. */
export async function loadOverview(
  store: RunStore,
  limits: OverviewLimits,
  now: Date = new Date(),
): Promise<RunsOverview> {
  const [runs, serving, rejectedEvents, freshnessAlerts] = await Promise.all([
    store.listRuns({ limit: limits.runs }),
    store.listServingRecords(),
    store.listRejectedEvents(limits.rejectedEvents),
    store.listFreshnessAlerts(),
  ]);
  return {
    runs,
    serving,
    rejectedEvents,
    rejectedEventsLimit: limits.rejectedEvents,
    freshnessAlerts,
    generatedAt: now.toISOString(),
  };
}
