/**
 * The two views of a Cloud Run service's traffic, resolved to named
 * revisions, for the planners in cloud-run-traffic.ts and
 * cloud-run-traffic-split.ts. No I/O; the SDK is imported for types only.
 *
 * service.proto, field comments of `traffic`, `traffic_statuses` and
 * `reconciling`:
 * - `traffic` is what was last asked for (desired). It keeps whatever the last
 *   update sent, also when that update could never be served: after a failed
 *   reconciliation a revision that did not start still holds its share there.
 * - `trafficStatuses` and `latestReadyRevision` are what Cloud Run observes:
 *   "if reconciliation failed, `traffic_statuses`, `observed_generation`, and
 *   `latest_ready_revision` will have the state of the last serving revision,
 *   or empty for newly created Services".
 * Who serves is therefore read from the observed fields only. The desired
 * list still says what the last writer wanted (a tag a discard removed stays
 * removed, a deploy that already happened is found there).
 */
import type { protos } from '@google-cloud/run';

type ServiceMessage = protos.google.cloud.run.v2.IService;

export const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
export const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';

/** A traffic target as recdeploy sends it: always a named revision, never "latest". */
export interface PlannedTarget {
  readonly type: typeof REVISION;
  readonly revision: string;
  readonly percent: number;
  readonly tag?: string;
}

/** A target Cloud Run reports as routed, with its tag URL when it has one. */
export interface ObservedTarget extends PlannedTarget {
  readonly url?: string;
}

/** The fields of a Service that traffic planning and reading use. */
export type ServiceSnapshot = Pick<
  ServiceMessage,
  | 'name'
  | 'uri'
  | 'annotations'
  | 'traffic'
  | 'trafficStatuses'
  | 'latestReadyRevision'
  | 'latestCreatedRevision'
>;

type TargetLike = NonNullable<ServiceMessage['traffic']>[number];

/** `projects/…/revisions/r` → `r`; short names pass unchanged. */
export function shortRevisionName(name: string | null | undefined): string {
  return (name ?? '').split('/').pop() ?? '';
}

/** Enum fields come back from reads as names, in decoded operation results as numbers. */
export function enumIs(value: unknown, name: string, number: number): boolean {
  return value === name || value === number;
}

/** A target with its revision resolved (a "latest" target names the latest ready revision). */
function resolved(target: TargetLike, latestReady: string): PlannedTarget | undefined {
  const revision = enumIs(target.type, LATEST, 1)
    ? target.revision || latestReady
    : target.revision;
  if (!revision) return undefined;
  return {
    type: REVISION,
    revision: shortRevisionName(revision),
    percent: target.percent ?? 0,
    ...(target.tag ? { tag: target.tag } : {}),
  };
}

/**
 * The desired traffic with every target resolved to a named revision. An
 * empty list means 100% to the latest ready revision (service.proto,
 * `traffic`: "If traffic is empty or not provided, defaults to 100% traffic
 * to the latest `Ready` Revision").
 */
export function desiredTargets(service: ServiceSnapshot): PlannedTarget[] {
  const latestReady = shortRevisionName(service.latestReadyRevision);
  const traffic: readonly TargetLike[] = service.traffic?.length
    ? service.traffic
    : [{ type: LATEST, percent: 100 }];
  return traffic.flatMap((t) => resolved(t, latestReady) ?? []);
}

/**
 * What Cloud Run routes: `trafficStatuses` with "latest" statuses resolved
 * through `latestReadyRevision`. A service with no ready revision routes
 * nothing (Cloud Run leaves both empty for a service whose first revision
 * failed).
 */
export function observedTargets(service: ServiceSnapshot): ObservedTarget[] {
  const latestReady = shortRevisionName(service.latestReadyRevision);
  if (!latestReady) return [];
  return (service.trafficStatuses ?? []).flatMap((status) => {
    const target = resolved(status, latestReady);
    if (target === undefined) return [];
    return [{ ...target, ...(status.uri ? { url: status.uri } : {}) }];
  });
}

/** The observed targets that carry traffic, as recdeploy would send them. */
export function servingTargets(service: ServiceSnapshot): PlannedTarget[] {
  return observedTargets(service)
    .filter((t) => t.percent > 0)
    .map(planned);
}

/** Identity of a target: its revision under its tag. */
export const keyOf = (t: PlannedTarget) => `${t.revision}\u0000${t.tag ?? ''}`;

/**
 * The tag a revision is known by: observed first (the tag Cloud Run routes),
 * then the desired list (a tag asked for but not routed yet).
 */
export function tagOf(service: ServiceSnapshot, revision: string): string | undefined {
  const known = [...observedTargets(service), ...desiredTargets(service)];
  return known.find((t) => t.revision === revision && t.tag)?.tag;
}

/** Shares per revision (a revision routed under two tags counts once, with their sum). */
export function sharesOf(targets: readonly PlannedTarget[]): Map<string, number> {
  const shares = new Map<string, number>();
  for (const t of targets) {
    if (t.percent > 0) shares.set(t.revision, (shares.get(t.revision) ?? 0) + t.percent);
  }
  return shares;
}

/** A target without the fields recdeploy does not send (an observed URL). */
export function planned(target: PlannedTarget): PlannedTarget {
  return {
    type: target.type,
    revision: target.revision,
    percent: target.percent,
    ...(target.tag !== undefined && { tag: target.tag }),
  };
}

export function withoutTag(target: PlannedTarget): PlannedTarget {
  return { type: target.type, revision: target.revision, percent: target.percent };
}
