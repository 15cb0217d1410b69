/**
 * Traffic of a Cloud Run service: what it really serves, and the traffic
 * lists deploy, promote and discard send (a canary split's list is in
 * cloud-run-traffic-split.ts). Who serves is read from what Cloud Run
 * observes, never from the desired `traffic` alone (cloud-run-traffic-targets.ts
 * explains the two views). No I/O.
 */
import type { RevisionSpec, ServiceTraffic } from '../../ports/serving-platform.port.js';
import {
  REVISION,
  desiredTargets,
  keyOf,
  observedTargets,
  planned,
  servingTargets,
  shortRevisionName,
  tagOf,
  withoutTag,
  type PlannedTarget,
  type ServiceSnapshot,
} from './cloud-run-traffic-targets.js';

export {
  enumIs,
  shortRevisionName,
  type PlannedTarget,
  type ServiceSnapshot,
} from './cloud-run-traffic-targets.js';

/**
 * Service annotation naming the revision that was live before the last
 * promote or rollback; rollback without an explicit target goes back to it.
 */
export const PREVIOUS_REVISION_ANNOTATION = 'recdeploy.dev/previous-revision';

/**
 * Tagged 0% targets of earlier revisions a deploy keeps (their tag URLs stay
 * reachable). Each costs nothing while idle, since revisions keep no minimum
 * instances of their own (the minimum is on the service:
 * cloud-run-revision-template.ts); a call to its tag URL cold-starts it.
 * docs/cloud-run-service.md tells operators.
 */
export const KEPT_TAGGED_REVISIONS = 3;

/**
 * Traffic for deploying `spec.revision`: every revision that really serves
 * (observed, with a share) keeps exactly its share (a "latest" status is
 * pinned to the concrete latest ready revision, so the new revision does not
 * take over traffic when it becomes ready), the newest
 * {@link KEPT_TAGGED_REVISIONS} other tagged 0% targets that are both routed
 * and still wanted stay, and the new revision joins at 0% with its tag.
 *
 * Targets Cloud Run does not route are left out: a revision that failed to
 * start keeps its place in the desired `traffic`, and sending it again would
 * keep every later update from reconciling.
 *
 * A brand-new service (`current` undefined), or one where nothing serves (no
 * ready revision: its only revisions failed), gives the new revision 100%:
 * Cloud Run requires traffic to total 100, and a 0% share behind a failed
 * revision's 100% could never reconcile. Nothing served before, so no caller
 * loses an answer; the run does not announce the revision (or go live) until
 * it passed verification through its tag URL. A service recdeploy creates is
 * private, also for a run that asked for a public one (it turns public at
 * promote: buildServiceFields).
 */
export function trafficForNewRevision(
  current: ServiceSnapshot | undefined,
  spec: Pick<RevisionSpec, 'revision' | 'tag'>,
  keepTagged: number = KEPT_TAGGED_REVISIONS,
): PlannedTarget[] {
  const newTarget = { type: REVISION, revision: spec.revision, tag: spec.tag } as const;
  if (current === undefined) return [{ ...newTarget, percent: 100 }];
  const serving = servingTargets(current);
  if (serving.length === 0) return [{ ...newTarget, percent: 100 }];
  const wanted = new Set(desiredTargets(current).map(keyOf));
  const tagged = observedTargets(current)
    .filter(
      (t) =>
        t.percent === 0 &&
        t.tag !== undefined &&
        t.tag !== spec.tag &&
        t.revision !== spec.revision &&
        wanted.has(keyOf(t)),
    )
    .map(planned);
  // Tags are unique in a service: a serving target that somehow holds the new tag gives it up.
  const kept = serving.map((t) => (t.tag === spec.tag ? withoutTag(t) : t));
  return [...kept, ...tagged.slice(-keepTagged), { ...newTarget, percent: 0 }];
}

/**
 * Traffic for promoting `revision`: it gets 100% (keeping its tag); the
 * revision it replaces (see {@link currentLiveRevision}) stays at 0% with its
 * tag, so its URL still reaches it for a rollback; other tags are dropped.
 */
export function trafficForPromote(current: ServiceSnapshot, revision: string): PlannedTarget[] {
  const previous = currentLiveRevision(current, revision);
  const promotedTag = tagOf(current, revision);
  const targets: PlannedTarget[] = [
    {
      type: REVISION,
      revision,
      percent: 100,
      ...(promotedTag !== undefined ? { tag: promotedTag } : {}),
    },
  ];
  const previousTag = previous === undefined ? undefined : tagOf(current, previous);
  if (previous !== undefined && previousTag !== undefined) {
    targets.push({ type: REVISION, revision: previous, percent: 0, tag: previousTag });
  }
  return targets;
}

/**
 * The revision that really serves all traffic, or else the one serving the
 * most (a canary split's stable revision, or a split someone made by hand):
 * the one a promote replaces. With `except`, the largest share of any other
 * revision: promoting a canary that already has the larger share still
 * replaces the stable one, not itself.
 */
export function currentLiveRevision(current: ServiceSnapshot, except?: string): string | undefined {
  let best: PlannedTarget | undefined;
  for (const target of servingTargets(current)) {
    if (target.revision === except) continue;
    if (best === undefined || target.percent > best.percent) best = target;
  }
  return best?.revision;
}

export interface DiscardPlan {
  /** The traffic to send. */
  readonly traffic: PlannedTarget[];
  /** The desired targets of the revision that leave. */
  readonly removed: readonly PlannedTarget[];
  /** The share of traffic the revision really serves (a discard must refuse when > 0). */
  readonly servingPercent: number;
}

/**
 * Traffic without `revision`'s targets; undefined when the desired traffic
 * has none (nothing to do). When the desired traffic gave it a share it never
 * served (it failed to start), what really serves takes that share back as it
 * is; with nothing serving the list is empty, which Cloud Run reads as 100%
 * to the latest ready revision.
 */
export function trafficWithout(
  current: ServiceSnapshot,
  revision: string,
): DiscardPlan | undefined {
  const desired = desiredTargets(current);
  const removed = desired.filter((t) => t.revision === revision);
  if (removed.length === 0) return undefined;
  const servingPercent = observedTargets(current)
    .filter((t) => t.revision === revision)
    .reduce((sum, t) => sum + t.percent, 0);
  const rest = desired.filter((t) => t.revision !== revision);
  if (removed.every((t) => t.percent === 0)) return { traffic: rest, removed, servingPercent };
  const serving = servingTargets(current);
  if (serving.length === 0) return { traffic: [], removed, servingPercent };
  const taken = new Set(serving.flatMap((t) => (t.tag === undefined ? [] : [t.tag])));
  const zero = rest.filter((t) => t.percent === 0 && t.tag !== undefined && !taken.has(t.tag));
  return { traffic: [...serving, ...zero], removed, servingPercent };
}

/**
 * True when `revision` holds 100% both as asked and as served (a promote
 * already happened). Either alone is not enough: asked but not served is a
 * promote whose reconciliation failed; served but not asked is a later
 * traffic change that failed, which promoting again must undo.
 */
export function holdsAllTraffic(current: ServiceSnapshot, revision: string): boolean {
  const all = (targets: readonly PlannedTarget[]) =>
    targets.some((t) => t.revision === revision && t.percent === 100);
  return all(desiredTargets(current)) && all(servingTargets(current));
}

/**
 * True when the desired traffic already names `revision` under `tag`: a
 * deploy that already happened, whatever became of it (its outcome is read
 * from the observed state afterwards).
 */
export function hasTaggedTarget(current: ServiceSnapshot, revision: string, tag: string): boolean {
  return desiredTargets(current).some((t) => t.revision === revision && t.tag === tag);
}

/**
 * The service's traffic as Cloud Run reports it (`trafficStatuses`, which
 * carry the tag URLs), never the desired `traffic`. Revision names are short
 * names.
 */
export function readServiceTraffic(service: ServiceSnapshot): ServiceTraffic {
  const targets = observedTargets(service).map(({ revision, percent, tag, url }) => ({
    revision,
    percent,
    ...(tag !== undefined && { tag }),
    ...(url !== undefined && { url }),
  }));
  const live = targets.find((t) => t.percent === 100)?.revision;
  const previous = service.annotations?.[PREVIOUS_REVISION_ANNOTATION];
  return {
    service: shortRevisionName(service.name),
    serviceUrl: service.uri ?? '',
    ...(live !== undefined && { liveRevision: live }),
    ...(previous ? { previousRevision: previous } : {}),
    targets,
  };
}
