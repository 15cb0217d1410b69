/**
 * Pure translation between recdeploy's serving port and Cloud Run Admin API v2
 * messages: the revision template and service fields a RevisionSpec asks for,
 * the traffic lists that deploy, promote and discard send, and the
 * ServiceTraffic read back from a Service. No I/O; the SDK is imported for
 * types only.
 */
import type { protos } from '@google-cloud/run';
import type { RevisionSpec, ServiceTraffic } from '../../ports/serving-platform.port.js';

export type RevisionTemplateMessage = protos.google.cloud.run.v2.IRevisionTemplate;
export type ServiceMessage = protos.google.cloud.run.v2.IService;

/** Label on every service recdeploy creates or updates. */
export const MANAGED_BY_LABELS: Readonly<Record<string, string>> = { managed_by: 'recdeploy' };

/**
 * Service annotation naming the revision that was live before the last
 * promote or rollback; rollback without an explicit target goes back to it.
 */
export const PREVIOUS_REVISION_ANNOTATION = 'recdeploy.dev/previous-revision';

/**
 * Startup probe timing: up to 24 × 10 s = 240 s for the model to load before
 * the revision counts as failed. Cloud Run bounds startup probes at
 * period ≤ 240 s and timeout < period.
 */
export const STARTUP_PROBE_TIMING = {
  periodSeconds: 10,
  timeoutSeconds: 5,
  failureThreshold: 24,
} as const;

/** Tagged 0% targets of earlier revisions a deploy keeps (their tag URLs stay reachable). */
export const KEPT_TAGGED_REVISIONS = 3;

export interface TemplateOptions {
  /** Service account the revision runs as; the project's default compute account when absent. */
  readonly serviceAccount?: string;
}

/**
 * The revision template for `spec`. Equal specs give byte-identical
 * templates (env and labels sorted by name): named revisions are immutable,
 * and a retried deploy that sent the same name with a differently ordered
 * template would be refused as "different configuration".
 */
export function buildRevisionTemplate(
  spec: RevisionSpec,
  options: TemplateOptions = {},
): RevisionTemplateMessage {
  const { resources } = spec;
  return {
    revision: spec.revision,
    labels: sortedRecord(spec.labels),
    scaling: {
      minInstanceCount: resources.minInstances,
      maxInstanceCount: resources.maxInstances,
    },
    timeout: { seconds: resources.timeoutS },
    maxInstanceRequestConcurrency: resources.concurrency,
    ...(options.serviceAccount !== undefined && { serviceAccount: options.serviceAccount }),
    containers: [
      {
        image: spec.image,
        env: Object.keys(spec.env)
          .sort()
          .map((name) => ({ name, value: spec.env[name] ?? '' })),
        ports: [{ name: 'http1', containerPort: spec.containerPort }],
        resources: {
          limits: { cpu: resources.cpu, memory: resources.memory },
          // Setting `resources` without cpuIdle switches the revision to
          // instance-based billing (CPU always allocated); keep request-based.
          cpuIdle: true,
          startupCpuBoost: true,
        },
        startupProbe: {
          httpGet: { path: spec.startupProbePath, port: spec.containerPort },
          ...STARTUP_PROBE_TIMING,
        },
      },
    ],
  };
}

/**
 * The service-level fields of a deploy. `invokerIamDisabled` is how a service
 * becomes public without touching IAM (it also works under the
 * domain-restricted-sharing org policy); a private service keeps the invoker
 * check, and recdeploy never grants `allUsers` anything. Existing labels and
 * annotations (the previous-revision annotation among them) are kept.
 */
export function buildServiceFields(
  spec: RevisionSpec,
  options: TemplateOptions = {},
  existing?: Pick<ServiceMessage, 'labels' | 'annotations'>,
): ServiceMessage {
  return {
    labels: sortedRecord({ ...existing?.labels, ...MANAGED_BY_LABELS }),
    annotations: sortedRecord({ ...existing?.annotations }),
    ingress: 'INGRESS_TRAFFIC_ALL',
    invokerIamDisabled: spec.public,
    template: buildRevisionTemplate(spec, options),
  };
}

// --- traffic

const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';

/** A traffic target as recdeploy sends it: always a named revision, never "latest". */
export interface PlannedTarget {
  readonly type: typeof REVISION;
  readonly revision: string;
  readonly percent: number;
  readonly tag?: string;
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
function enumIs(value: unknown, name: string, number: number): boolean {
  return value === name || value === number;
}

function isLatest(type: TargetLike['type']): boolean {
  return enumIs(type, LATEST, 1);
}

/** A target with its revision resolved (a "latest" target names the latest ready revision). */
function resolved(target: TargetLike, latestReady: string): PlannedTarget | undefined {
  const revision = isLatest(target.type) ? target.revision || latestReady : target.revision;
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
 * empty list means 100% to the latest ready revision (Cloud Run's default).
 */
function currentTargets(service: ServiceSnapshot): PlannedTarget[] {
  const latestReady = shortRevisionName(service.latestReadyRevision);
  const traffic: readonly TargetLike[] = service.traffic?.length
    ? service.traffic
    : [{ type: LATEST, percent: 100 }];
  return traffic.flatMap((t) => resolved(t, latestReady) ?? []);
}

/**
 * Traffic for deploying `spec.revision`: every target with traffic stays
 * exactly as it is (a "latest" target is pinned to the concrete latest ready
 * revision, so the new revision does not take over traffic when it becomes
 * ready), the newest {@link KEPT_TAGGED_REVISIONS} other tagged 0% targets
 * stay, and the new revision joins at 0% with its tag.
 *
 * Tagged 0% targets missing from `trafficStatuses` are dropped: they never
 * became routable (a revision that failed to start), and keeping them would
 * keep every later update from reconciling.
 *
 * A brand-new service (`current` undefined), or one with no ready revision,
 * has nothing else to serve, and Cloud Run requires traffic to total 100:
 * the new revision gets 100%. That is safe because services are private by
 * default and the run announces nothing until verification passed.
 */
export function trafficForNewRevision(
  current: ServiceSnapshot | undefined,
  spec: Pick<RevisionSpec, 'revision' | 'tag'>,
  keepTagged: number = KEPT_TAGGED_REVISIONS,
): PlannedTarget[] {
  const newTarget = { type: REVISION, revision: spec.revision, tag: spec.tag } as const;
  if (current === undefined) return [{ ...newTarget, percent: 100 }];
  const targets = currentTargets(current);
  const serving = targets.filter((t) => t.percent > 0);
  if (serving.length === 0) return [{ ...newTarget, percent: 100 }];
  const routable = new Set(
    (current.trafficStatuses ?? []).map(
      (s) => `${shortRevisionName(s.revision)}\u0000${s.tag ?? ''}`,
    ),
  );
  const tagged = targets.filter(
    (t) =>
      t.percent === 0 &&
      t.tag !== undefined &&
      t.tag !== spec.tag &&
      t.revision !== spec.revision &&
      routable.has(`${t.revision}\u0000${t.tag}`),
  );
  // Tags are unique in a service: a serving target that somehow holds the new tag gives it up.
  const kept = serving.map((t) => (t.tag === spec.tag ? withoutTag(t) : t));
  return [...kept, ...tagged.slice(-keepTagged), { ...newTarget, percent: 0 }];
}

/**
 * Traffic for promoting `revision`: it gets 100% (keeping its tag); the
 * revision that was live stays at 0% with its tag, so its URL still reaches
 * it for a rollback; other tags are dropped.
 */
export function trafficForPromote(current: ServiceSnapshot, revision: string): PlannedTarget[] {
  const targets = currentTargets(current);
  const previous = liveRevisionOf(targets);
  const tagOf = (name: string) => targets.find((t) => t.revision === name && t.tag)?.tag;
  const promotedTag = tagOf(revision);
  const planned: PlannedTarget[] = [
    {
      type: REVISION,
      revision,
      percent: 100,
      ...(promotedTag !== undefined ? { tag: promotedTag } : {}),
    },
  ];
  const previousTag = previous === undefined ? undefined : tagOf(previous);
  if (previous !== undefined && previous !== revision && previousTag !== undefined) {
    planned.push({ type: REVISION, revision: previous, percent: 0, tag: previousTag });
  }
  return planned;
}

/**
 * The revision holding all traffic, or else the one holding the most (a
 * split someone made by hand): the one a promote replaces.
 */
function liveRevisionOf(targets: readonly PlannedTarget[]): string | undefined {
  let best: PlannedTarget | undefined;
  for (const target of targets) {
    if (target.percent > 0 && (best === undefined || target.percent > best.percent)) best = target;
  }
  return best?.revision;
}

/** The revision a promote of anything would replace, read from the service's desired traffic. */
export function currentLiveRevision(current: ServiceSnapshot): string | undefined {
  return liveRevisionOf(currentTargets(current));
}

/** Traffic without `revision`'s targets; undefined when it has none (nothing to do). */
export function trafficWithout(
  current: ServiceSnapshot,
  revision: string,
): { readonly traffic: PlannedTarget[]; readonly removed: readonly PlannedTarget[] } | undefined {
  const targets = currentTargets(current);
  const removed = targets.filter((t) => t.revision === revision);
  if (removed.length === 0) return undefined;
  return { traffic: targets.filter((t) => t.revision !== revision), removed };
}

/** True when `revision` already holds 100% of the desired traffic (a promote already happened). */
export function holdsAllTraffic(current: ServiceSnapshot, revision: string): boolean {
  return currentTargets(current).some((t) => t.revision === revision && t.percent === 100);
}

/** The fields of a Service that say how its last reconciliation ended. */
export type ReconciledService = ServiceSnapshot &
  Pick<ServiceMessage, 'terminalCondition' | 'conditions'>;

export type RevisionOutcome =
  | { readonly state: 'ready' }
  | { readonly state: 'failed'; readonly reason: string }
  | { readonly state: 'absent' };

const CONDITION_FAILED = 'CONDITION_FAILED';

/**
 * What became of `revision` once the service stopped reconciling. Cloud Run
 * ends a successful reconciliation with latestReadyRevision equal to
 * latestCreatedRevision; when the latest created revision is ours and is not
 * the latest ready one, it failed, and the service's conditions say why. A
 * revision that a later deploy superseded counts as ready while its traffic
 * target is routed (it appears in trafficStatuses).
 */
export function revisionOutcome(service: ReconciledService, revision: string): RevisionOutcome {
  if (shortRevisionName(service.latestReadyRevision) === revision) return { state: 'ready' };
  if (shortRevisionName(service.latestCreatedRevision) === revision) {
    return { state: 'failed', reason: failureReason(service) };
  }
  const routed = (service.trafficStatuses ?? []).some(
    (s) => shortRevisionName(s.revision) === revision,
  );
  return routed ? { state: 'ready' } : { state: 'absent' };
}

function failureReason(service: ReconciledService): string {
  const failed = [service.terminalCondition, ...(service.conditions ?? [])].find(
    (c) => enumIs(c?.state, CONDITION_FAILED, 3) && c?.message,
  );
  if (failed?.message) return failed.message;
  const ready = shortRevisionName(service.latestReadyRevision) || 'none';
  return `it did not become ready and Cloud Run gave no reason (latest ready revision: ${ready})`;
}

/** True when the desired traffic already routes `revision` under `tag` (a deploy already happened). */
export function hasTaggedTarget(current: ServiceSnapshot, revision: string, tag: string): boolean {
  return currentTargets(current).some((t) => t.revision === revision && t.tag === tag);
}

/**
 * The service's traffic as Cloud Run reports it (`trafficStatuses`, which
 * carry the tag URLs). Revision names are short names.
 */
export function readServiceTraffic(service: ServiceSnapshot): ServiceTraffic {
  const latestReady = shortRevisionName(service.latestReadyRevision);
  const targets = (service.trafficStatuses ?? []).flatMap((status) => {
    const target = resolved(status, latestReady);
    if (target === undefined) return [];
    const { revision, percent, tag } = target;
    return [
      {
        revision,
        percent,
        ...(tag !== undefined && { tag }),
        ...(status.uri ? { url: status.uri } : {}),
      },
    ];
  });
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

function withoutTag(target: PlannedTarget): PlannedTarget {
  return { type: target.type, revision: target.revision, percent: target.percent };
}

function sortedRecord(
  record: Readonly<Record<string, string>> | null | undefined,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
