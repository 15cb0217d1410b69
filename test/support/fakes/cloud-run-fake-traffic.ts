/**
 * Traffic rules of the Cloud Run fake's Services: which traffic lists an
 * update is refused for at once, and why a reconciliation fails. Each rule
 * names its source beside it.
 */
import * as grpc from '@grpc/grpc-js';
import { serviceError } from './grpc-fake-server.js';
import type { ConditionWire, ServiceWire, TrafficTargetWire } from './cloud-run-fake-wire.js';

const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';

/** Why a reconciliation failed: the failed condition, the operation's code and message. */
export interface ReconcileFailure {
  readonly condition: ConditionWire['type'];
  readonly code: grpc.status;
  readonly message: string;
}

/**
 * Cloud Run's limit on a tag plus the service name: together they make the
 * tag URL's first DNS label (`{tag}---{service}-{hash}-{region}`). Wording of
 * the refusal as gcloud prints it (PolicyEngine/policyengine-api#3729,
 * solana-foundation/tokens#89): "spec.traffic.tag: traffic tag '…' and
 * service name '…' together are too long. Combined traffic tag and service
 * name cannot exceed 46 characters."
 */
export const TAG_AND_SERVICE_MAX = 46;

/**
 * Refused at once, as Knative's route validation refuses them
 * (knative/serving pkg/apis/serving/v1/route_validation.go,
 * validateTrafficList: "Traffic targets sum to %d, want 100", "Multiple
 * definitions for %q"; validateTrafficPercentage: each percent within
 * [0, 100]); that Cloud Run v2 applies the same checks is inference; and
 * a tag too long for its service (TAG_AND_SERVICE_MAX). The
 * fake also insists on short revision names, as the samples send
 * (gcp-facts §D). Whether a named revision exists is not checked here:
 * Cloud Run accepts the update and its reconciliation fails (reconcileFailure).
 */
export function validateTraffic(traffic: readonly TrafficTargetWire[], serviceId: string): void {
  if (traffic.length === 0) return;
  const tooLong = traffic.find(
    (t) => (t.tag ?? '').length + serviceId.length > TAG_AND_SERVICE_MAX,
  );
  if (tooLong !== undefined) {
    throw serviceError(
      grpc.status.INVALID_ARGUMENT,
      `spec.traffic.tag: traffic tag '${tooLong.tag}' and service name '${serviceId}' together are too long. Combined traffic tag and service name cannot exceed ${TAG_AND_SERVICE_MAX} characters.`,
    );
  }
  const outOfBounds = traffic.find((t) => (t.percent ?? 0) < 0 || (t.percent ?? 0) > 100);
  if (outOfBounds !== undefined) {
    throw serviceError(
      grpc.status.INVALID_ARGUMENT,
      `expected 0 <= ${outOfBounds.percent} <= 100: percent`,
    );
  }
  const total = traffic.reduce((sum, t) => sum + (t.percent ?? 0), 0);
  if (total !== 100) {
    throw serviceError(grpc.status.INVALID_ARGUMENT, `Traffic targets sum to ${total}, want 100`);
  }
  const tags = traffic.map((t) => t.tag).filter((t): t is string => !!t);
  const repeated = tags.find((tag, i) => tags.indexOf(tag) !== i);
  if (repeated !== undefined) {
    throw serviceError(grpc.status.INVALID_ARGUMENT, `Multiple definitions for "${repeated}"`);
  }
  const long = traffic.find((t) => t.type === REVISION && (t.revision ?? '').includes('/'));
  if (long !== undefined) {
    throw serviceError(
      grpc.status.INVALID_ARGUMENT,
      `traffic revision must be a short name: ${long.revision}`,
    );
  }
}

/**
 * Why reconciliation fails, if it does: the latest created revision did not
 * start, or the traffic names a revision that never became ready (a failed
 * revision stays failed: revisions are immutable) or that does not exist.
 * Cloud Run words the first two as "Revision '…' is not ready and cannot
 * serve traffic. <reason>" (terraform-google-modules/terraform-docs-samples#254,
 * the Ready condition's message; transparency-dev/tesseract#413, the
 * operation's, code 9). A missing revision is accepted by the update and
 * fails its reconciliation with code 13 "Revision '…' does not exist or is
 * deleted. Update all traffic to route to currently available revisions."
 * (terraform-google-modules/terraform-docs-samples#269, a v2 service whose
 * traffic named a revision not created yet; Knative likewise admits such a
 * route and fails it when reconciling, its validation only checking names:
 * knative/serving pkg/apis/serving/v1/route_validation.go).
 */
export function reconcileFailure(
  service: ServiceWire,
  revisions: ReadonlyMap<string, unknown>,
  failing: ReadonlyMap<string, string>,
): ReconcileFailure | undefined {
  const created = shortRevisionName(service.latestCreatedRevision ?? '');
  const notReady = (revision: string, reason: string) =>
    `Revision '${revision}' is not ready and cannot serve traffic. ${reason}`;
  const reason = failing.get(created);
  if (reason !== undefined) {
    return {
      condition: 'ConfigurationsReady',
      code: grpc.status.FAILED_PRECONDITION,
      message: notReady(created, reason),
    };
  }
  for (const target of service.traffic ?? []) {
    if (target.type !== REVISION) continue;
    const revision = target.revision ?? '';
    if (!revisions.has(revision)) {
      return {
        condition: 'RoutesReady',
        code: grpc.status.INTERNAL,
        message: `Revision '${revision}' does not exist or is deleted. Update all traffic to route to currently available revisions.`,
      };
    }
    const stuck = failing.get(revision);
    if (stuck !== undefined) {
      return {
        condition: 'RoutesReady',
        code: grpc.status.FAILED_PRECONDITION,
        message: notReady(revision, stuck),
      };
    }
  }
  return undefined;
}

/** `projects/…/revisions/r` → `r`. */
export function shortRevisionName(name: string): string {
  return name.split('/').pop() ?? name;
}
