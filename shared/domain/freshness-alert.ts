/**
 * A freshness alert as the run store keeps it (an outbox row): opened when a
 * breach is first seen, marked announced once its `breached` message is
 * published, closed (deleted) once its `resolved` message is. A step that
 * did not happen (a crash, a failed publish) is repeated at the next
 * reconciler pass, with the same alert id; the id names the breach, so a
 * breach never gets a second alert.
 */
import { freshnessAlertId, type FreshnessBreach, type FreshnessKind } from './freshness.js';

export interface FreshnessAlert {
  /** `{modelEndpointId}:{kind}:{breachedSince}` (freshnessAlertId). */
  readonly alertId: string;
  readonly modelEndpointId: string;
  readonly kind: FreshnessKind;
  readonly thresholdS: number;
  readonly breachedSince: string;
  readonly detail: string;
  readonly liveRunId?: string;
  readonly liveTrainingCompletedAt?: string;
  readonly newestRunId?: string;
  readonly newestTrainingCompletedAt?: string;
  readonly newestRunStatus?: string;
  /** When the reconciler first saw the breach. */
  readonly openedAt: string;
  /** When its `breached` message was published; absent until then. */
  readonly announcedAt?: string;
}

/** What openFreshnessAlert did: stored the alert, or found it stored (and returns that one). */
export interface OpenFreshnessAlertResult {
  readonly created: boolean;
  readonly alert: FreshnessAlert;
}

/** The alert to open for a breach seen at `now`. */
export function freshnessAlertOf(breach: FreshnessBreach, now: Date): FreshnessAlert {
  const newest = breach.newestRun;
  return {
    alertId: freshnessAlertId(breach),
    modelEndpointId: breach.modelEndpointId,
    kind: breach.kind,
    thresholdS: Math.max(1, Math.round(breach.thresholdMs / 1000)),
    breachedSince: breach.breachedSince,
    detail: breach.detail,
    liveRunId: breach.liveRun.runId,
    liveTrainingCompletedAt: breach.liveRun.trainingCompletedAt,
    ...(newest === undefined
      ? {}
      : {
          newestRunId: newest.runId,
          newestTrainingCompletedAt: newest.trainingCompletedAt,
          newestRunStatus: newest.status,
        }),
    openedAt: now.toISOString(),
  };
}
