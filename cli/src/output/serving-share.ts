/**
 * A run's place in its service's serving record: whether its revision
 * serves, with which share, and which revision serves otherwise. Shared by
 * the runs table and `status`, so both say the same thing.
 */
import { trafficPercent, type RunDocument, type ServingRecord } from '@recdeploy/shared';

export interface TrafficShare {
  /** The run's revision's share, 0 when it has none. */
  readonly percent: number;
  /** The revision with the traffic (or the largest share), when any. */
  readonly liveRevision?: string;
  readonly liveRunId?: string;
  /** Since when liveRevision serves. */
  readonly since?: string;
  /** When the platform was last read for a change of the record. */
  readonly observedAt: string;
}

/** Undefined when the run has no revision or its service has no record yet. */
export function trafficShare(
  run: RunDocument,
  record: ServingRecord | undefined,
): TrafficShare | undefined {
  const revision = run.serving?.revision;
  if (record === undefined || revision === undefined) return undefined;
  return {
    percent: trafficPercent(record, revision),
    ...(record.liveRevision === undefined ? {} : { liveRevision: record.liveRevision }),
    ...(record.liveRunId === undefined ? {} : { liveRunId: record.liveRunId }),
    ...(record.since === undefined ? {} : { since: record.since }),
    observedAt: record.observedAt,
  };
}
