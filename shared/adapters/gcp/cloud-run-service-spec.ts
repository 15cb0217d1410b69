/**
 * Pure translation between recdeploy's serving port and Cloud Run Admin API v2
 * messages: the service fields a RevisionSpec asks for (its revision template
 * is built in cloud-run-revision-template.ts),
 * and what became of a revision once the service reconciled. Traffic (what
 * serves, and the lists deploy, promote, split and discard send) is in
 * cloud-run-traffic.ts and cloud-run-traffic-split.ts, re-exported here so the
 * adapter's public surface stays one module. No I/O; the SDK is imported for types only.
 */
import type { protos } from '@google-cloud/run';
import type { RevisionSpec } from '../../ports/serving-platform.port.js';
import { enumIs, shortRevisionName, type ServiceSnapshot } from './cloud-run-traffic.js';
import {
  buildRevisionTemplate,
  sortedRecord,
  type TemplateOptions,
} from './cloud-run-revision-template.js';

export * from './cloud-run-traffic.js';
export * from './cloud-run-traffic-split.js';
export {
  ENV_NAMES_ANNOTATION,
  STARTUP_PROBE_TIMING,
  buildRevisionTemplate,
  type RevisionTemplateMessage,
  type TemplateOptions,
} from './cloud-run-revision-template.js';

export type ServiceMessage = protos.google.cloud.run.v2.IService;

/** Label on every service recdeploy creates or updates. */
export const MANAGED_BY_LABELS: Readonly<Record<string, string>> = { managed_by: 'recdeploy' };

/**
 * Service annotations recording what the last deployed run asked for:
 * `deployment_config.public` ("true" | "false") and the revision that asked.
 * Annotation keys in Cloud Run's own namespaces (run.googleapis.com, …) are
 * refused (service.proto, `annotations`), so these live under recdeploy.dev.
 */
export const PUBLIC_ANNOTATION = 'recdeploy.dev/public';
export const PUBLIC_REVISION_ANNOTATION = 'recdeploy.dev/public-revision';

/**
 * The service-level fields of a deploy over `existing` (the service as read;
 * none for a new one). A new service is created with ingress from all
 * networks and the invoker check on (private), whatever the run asked: an
 * unverified first revision is never public, and turning the check off needs
 * run.services.setIamPolicy, which the deploy identity does not have
 * (https://cloud.google.com/run/docs/authenticating/public). The run's wish
 * is recorded (PUBLIC_ANNOTATION) and applied at promote, after verification
 * (exposureAtPromote). An existing service keeps its ingress, invoker setting
 * and every field recdeploy does not own; labels and annotations are merged
 * by key; the template is built over the current one
 * (cloud-run-revision-template.ts). Minimum instances are set here, on the
 * service, where Cloud Run divides them among the revisions that have traffic
 * (vendor_settings.proto, ServiceScaling.min_instance_count), so 0% tagged
 * revisions keep none.
 */
export function buildServiceFields(
  spec: RevisionSpec,
  options: TemplateOptions = {},
  existing?: Pick<ServiceMessage, 'labels' | 'annotations' | 'scaling' | 'template'>,
): ServiceMessage {
  return {
    labels: sortedRecord({ ...existing?.labels, ...MANAGED_BY_LABELS }),
    annotations: sortedRecord({
      ...withoutWish(existing?.annotations),
      // A run that asked nothing records no wish: the setting stays as it is.
      ...(spec.public !== undefined && {
        [PUBLIC_ANNOTATION]: String(spec.public),
        [PUBLIC_REVISION_ANNOTATION]: spec.revision,
      }),
    }),
    ...(existing === undefined && {
      ingress: 'INGRESS_TRAFFIC_ALL',
      invokerIamDisabled: false,
    }),
    scaling: { ...existing?.scaling, minInstanceCount: spec.resources.minInstances },
    template: buildRevisionTemplate(spec, options, existing?.template),
  };
}

/** `annotations` without an earlier run's wish (PUBLIC_ANNOTATION and its revision). */
function withoutWish(
  annotations: Readonly<Record<string, string>> | null | undefined,
): Record<string, string> {
  const rest: Record<string, string> = { ...annotations };
  delete rest[PUBLIC_ANNOTATION];
  delete rest[PUBLIC_REVISION_ANNOTATION];
  return rest;
}

/**
 * The `invokerIamDisabled` a promote of `revision` sets, or undefined when it
 * leaves the service as it is: only the revision whose deploy recorded a
 * wish applies it (a discarded run's wish never does), and only when the
 * service differs.
 */
export function exposureAtPromote(
  current: Pick<ServiceMessage, 'annotations' | 'invokerIamDisabled'>,
  revision: string,
): boolean | undefined {
  const annotations = current.annotations ?? {};
  if (annotations[PUBLIC_REVISION_ANNOTATION] !== revision) return undefined;
  const wish = annotations[PUBLIC_ANNOTATION];
  if (wish !== 'true' && wish !== 'false') return undefined;
  const wanted = wish === 'true';
  return wanted === Boolean(current.invokerIamDisabled) ? undefined : wanted;
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
