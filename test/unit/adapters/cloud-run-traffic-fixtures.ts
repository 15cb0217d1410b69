/**
 * Services shaped as Cloud Run returns them, for the traffic planning tests
 * (service.proto, field comments of `traffic`, `traffic_statuses` and
 * `reconciling`): after a successful reconciliation `trafficStatuses` mirrors
 * `traffic` and `latestReadyRevision` equals `latestCreatedRevision`; after a
 * failed one `traffic` keeps what was sent (failed revision included) while
 * `trafficStatuses` and `latestReadyRevision` keep the last serving state, or
 * are empty when the service's first revision failed.
 */
import type {
  PlannedTarget,
  ServiceSnapshot,
} from '../../../shared/adapters/gcp/cloud-run-traffic.js';

export const SERVICE = 'projects/p/locations/us-central1/services/rec-shop';
export const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' as const;
export const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const;
export const spec = { revision: 'rec-shop-r7', tag: 'run-7' };

export const rev = (revision: string, percent: number, tag?: string): PlannedTarget => ({
  type: REVISION,
  revision,
  percent,
  ...(tag !== undefined && { tag }),
});
export const status = (revision: string, percent: number, tag = '') => ({
  type: REVISION,
  revision,
  percent,
  tag,
  uri: tag ? `https://${tag}---rec-shop-abc123-uc.a.run.app` : '',
});
export const full = (revision: string) => `${SERVICE}/revisions/${revision}`;

/** A service whose last reconciliation succeeded: observed = desired. */
export function reconciled(traffic: PlannedTarget[], latest: string): ServiceSnapshot {
  return {
    traffic,
    trafficStatuses: traffic.map((t) => status(t.revision, t.percent, t.tag)),
    latestReadyRevision: full(latest),
    latestCreatedRevision: full(latest),
  };
}
