/**
 * Rules of the Cloud Run fake's Services about a write's content, apart from
 * traffic (cloud-run-fake-traffic.ts): which revision names are accepted,
 * who may turn the invoker check off, and which fields an update replaces.
 * Each rule names its source beside it.
 */
import * as grpc from '@grpc/grpc-js';
import { serviceError } from './grpc-fake-server.js';
import type { ServiceWire } from './cloud-run-fake-wire.js';

/** The permission a change of `invokerIamDisabled` needs. */
export const SET_IAM_POLICY = 'run.services.setIamPolicy';

/**
 * A revision name the caller chose must be a DNS-1035 label and begin with
 * `{service}-`: Knative's validateRevisionName
 * (knative/serving pkg/apis/serving/v1/revision_validation.go: "not a DNS
 * 1035 label", `%q must have prefix %q` on metadata.name, the prefix being the
 * parent's name plus "-"). Cloud Run names revisions the same way
 * (`{service}-{suffix}`, gcp-facts §D); that v2 refuses other names as Knative
 * does is the finding, the wording is Knative's.
 */
export function validateRevisionName(revision: string, serviceId: string): void {
  const prefix = `${serviceId}-`;
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(revision) || revision.length > 63) {
    throw serviceError(
      grpc.status.INVALID_ARGUMENT,
      `invalid value: not a DNS 1035 label: "${revision}": template.revision`,
    );
  }
  if (!revision.startsWith(prefix)) {
    throw serviceError(
      grpc.status.INVALID_ARGUMENT,
      `invalid value: "${revision}" must have prefix "${prefix}": template.revision`,
    );
  }
}

/**
 * Turning the invoker check off or on needs run.services.setIamPolicy besides
 * create/update ("To disable or re-enable the Invoker IAM check on a service,
 * you must have the following permissions: run.services.create,
 * run.services.update, run.services.setIamPolicy",
 * https://cloud.google.com/run/docs/authenticating/public). A new service
 * with the check on, or an update leaving it as it is, needs nothing more.
 * Wording of IAM's refusal: "Permission '…' denied on resource '…' (or it may
 * not exist)."
 */
export function checkInvokerChange(
  before: boolean,
  after: boolean,
  name: string,
  denied: ReadonlySet<string>,
): void {
  if (before !== after) checkSetIamPolicy(name, denied);
}

/** SetIamPolicy itself, or a write that needs its permission, by a caller denied it. */
export function checkSetIamPolicy(name: string, denied: ReadonlySet<string>): void {
  if (!denied.has(SET_IAM_POLICY)) return;
  throw serviceError(
    grpc.status.PERMISSION_DENIED,
    `Permission '${SET_IAM_POLICY}' denied on resource '${name}' (or it may not exist).`,
  );
}

/**
 * Output-only fields of a Service (proto, `OUTPUT_ONLY` / IDENTIFIER field
 * behaviour): what an update sends for them is ignored. Every other field is
 * the caller's desired state, replaced as a whole by an update without a mask
 * (proto, UpdateServiceRequest: the service "to update"; gcp-facts §D).
 */
const OUTPUT_ONLY: ReadonlySet<string> = new Set([
  'name',
  'uid',
  'generation',
  'createTime',
  'updateTime',
  'deleteTime',
  'expireTime',
  'creator',
  'lastModifier',
  'observedGeneration',
  'terminalCondition',
  'conditions',
  'latestReadyRevision',
  'latestCreatedRevision',
  'trafficStatuses',
  'uri',
  'urls',
  'reconciling',
  'etag',
  'satisfiesPzs',
  'threatDetectionEnabled',
]);

/** The writable fields of `desired`, to replace those of the stored service. */
export function writableFields(desired: ServiceWire): ServiceWire {
  return Object.fromEntries(
    Object.entries(structuredClone(desired)).filter(([field]) => !OUTPUT_ONLY.has(field)),
  );
}

/** Clears every writable field of `service`, keeping what only Cloud Run sets. */
export function clearWritableFields(service: ServiceWire): void {
  for (const field of Object.keys(service)) {
    if (!OUTPUT_ONLY.has(field)) delete service[field];
  }
}
