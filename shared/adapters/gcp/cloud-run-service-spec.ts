/**
 * Pure translation between recdeploy's serving port and Cloud Run Admin API v2
 * messages: the revision template and service fields a RevisionSpec asks for,
 * and what became of a revision once the service reconciled. Traffic (what
 * serves, and the lists deploy, promote, split and discard send) is in
 * cloud-run-traffic.ts and cloud-run-traffic-split.ts, re-exported here so the
 * adapter's public surface stays one module. No I/O; the SDK is imported for types only.
 */
import type { protos } from '@google-cloud/run';
import type { RevisionSpec } from '../../ports/serving-platform.port.js';
import { enumIs, shortRevisionName, type ServiceSnapshot } from './cloud-run-traffic.js';

export * from './cloud-run-traffic.js';
export * from './cloud-run-traffic-split.js';

export type RevisionTemplateMessage = protos.google.cloud.run.v2.IRevisionTemplate;
export type ServiceMessage = protos.google.cloud.run.v2.IService;

/** Label on every service recdeploy creates or updates. */
export const MANAGED_BY_LABELS: Readonly<Record<string, string>> = { managed_by: 'recdeploy' };

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

function sortedRecord(
  record: Readonly<Record<string, string>> | null | undefined,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
