/**
 * Says what a payload that is not the expected message actually is, so a
 * rejection starts with that ("a Cloud Audit Log entry (logName …, method …)
 * is not a training-completed message: …") instead of a schema's list of
 * missing fields. A log sink or trigger wired to the wrong topic is the
 * usual cause, and each of those has a shape that gives it away.
 *
 * `kind` is a short, stable phrase for grouping (a dashboard counts by it);
 * `description` adds the identifying details of this one payload.
 */
import { isRecord, type FieldRecord } from './envelope/read-fields.js';

/** `protoPayload.@type` of a Cloud Audit Log entry. */
export const AUDIT_LOG_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';
/** The CloudEvent type of an Eventarc audit-log trigger (the body is the audit LogEntry itself). */
export const AUDIT_LOG_WRITTEN_TYPE = 'google.cloud.audit.log.v1.written';

/** The kinds a rejection can carry, as stored (stable: grouped on). */
export const PAYLOAD_KINDS = {
  auditLog: 'Cloud Audit Log entry',
  mlJob: 'legacy AI Platform ml_job log entry',
  kubernetes: 'Kubernetes log entry',
  logEntry: 'Cloud Logging LogEntry',
  unrecognised: 'unrecognised JSON',
  malformedDelivery: 'malformed Pub/Sub delivery',
  otherCloudEvent: 'CloudEvent that is not a Pub/Sub message',
  notCloudEvent: 'JSON that is not a CloudEvent',
  pipelineJobEntry: 'Vertex PipelineJob log entry',
  pipelineJobTask: 'Vertex PipelineJob task log entry',
  pipelineJobNoState: 'Vertex PipelineJob with no state',
  httpMethod: (method: string) => `HTTP ${method}`,
  nonJsonBody: 'non-JSON body',
} as const;

/** What a payload is: a stable kind and a description with its identifying details. */
export interface PayloadDescription {
  readonly kind: string;
  /** Reads as the subject of a sentence: "a Cloud Audit Log entry (logName …, method …)". */
  readonly description: string;
  /** True when the payload claims to be the expected message (its schema errors are the news). */
  readonly isExpected: boolean;
}

/** The fields that mark a payload as one of our own messages, by event name. */
const OWN_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'training-completed': ['training_run_id', 'model_endpoint_id', 'artifact_uri'],
  'model-registered': ['run_id'],
  'model-deployed': ['run_id'],
  'deployment-finished': ['run_id'],
};

const KUBERNETES = /^k8s_/;
const DETAIL_CHARS = 120;

/** Describes `value`, a decoded payload that was meant to be an `expected` message. */
export function describePayload(value: unknown, expected: string): PayloadDescription {
  if (!isRecord(value)) {
    const what = Array.isArray(value) ? 'a JSON array' : `a JSON ${jsonType(value)}`;
    return { kind: PAYLOAD_KINDS.unrecognised, description: what, isExpected: false };
  }
  const logEntry = describeLogEntry(value);
  if (logEntry !== undefined) return logEntry;
  const own = OWN_FIELDS[expected] ?? [];
  if (Object.hasOwn(value, 'schema_version') || own.some((f) => Object.hasOwn(value, f))) {
    return {
      kind: `${expected} message`,
      description: `a ${expected} message`,
      isExpected: true,
    };
  }
  return {
    kind: PAYLOAD_KINDS.unrecognised,
    description: `JSON ${keysOf(value)}`,
    isExpected: false,
  };
}

/**
 * The reason a rejected payload is recorded with: what it is, then the
 * details. "a Cloud Audit Log entry (…) is not a training-completed message:
 * /schema_version: is required; …" or "invalid training-completed message: …".
 */
export function explainRejectedPayload(
  described: PayloadDescription,
  expected: string,
  details: string,
): string {
  return described.isExpected
    ? `invalid ${expected} message: ${details}`
    : `${described.description} is not a ${expected} message: ${details}`;
}

/** A LogEntry of some kind (audit, ml_job, Kubernetes, other), or undefined when it does not look like one. */
export function describeLogEntry(entry: FieldRecord): PayloadDescription | undefined {
  const resource = isRecord(entry.resource) ? entry.resource : undefined;
  const resourceType = text(resource?.type);
  const logName = text(entry.logName);
  const proto = isRecord(entry.protoPayload) ? entry.protoPayload : undefined;
  if (proto !== undefined && proto['@type'] === AUDIT_LOG_TYPE) {
    const details = [
      logName && `logName ${logName}`,
      text(proto.methodName) && `method ${text(proto.methodName)}`,
    ].filter(Boolean);
    return logEntryKind(PAYLOAD_KINDS.auditLog, details);
  }
  const looksLikeLogEntry =
    logName !== undefined ||
    (resourceType !== undefined &&
      ['jsonPayload', 'textPayload', 'protoPayload', 'insertId', 'severity'].some((f) =>
        Object.hasOwn(entry, f),
      ));
  if (!looksLikeLogEntry) return undefined;
  const labels = isRecord(resource?.labels) ? resource.labels : undefined;
  if (resourceType === 'ml_job') {
    const jobId = text(labels?.job_id);
    return logEntryKind(PAYLOAD_KINDS.mlJob, [
      jobId && `job_id ${jobId}`,
      logName && `logName ${logName}`,
    ]);
  }
  if (resourceType !== undefined && KUBERNETES.test(resourceType)) {
    const where = [text(labels?.namespace_name), text(labels?.container_name)].filter(Boolean);
    return logEntryKind(PAYLOAD_KINDS.kubernetes, [
      `resource.type ${resourceType}`,
      where.length > 0 && `container ${where.join('/')}`,
      logName && `logName ${logName}`,
    ]);
  }
  return logEntryKind(PAYLOAD_KINDS.logEntry, [
    resourceType && `resource.type ${resourceType}`,
    logName && `logName ${logName}`,
  ]);
}

function logEntryKind(
  kind: string,
  details: readonly (string | false | undefined)[],
): PayloadDescription {
  const shown = details.filter((d): d is string => typeof d === 'string' && d !== '');
  const article = /^[aeiou]/i.test(kind) ? 'an' : 'a';
  return {
    kind,
    description: `${article} ${kind}${shown.length > 0 ? ` (${shown.join(', ')})` : ''}`,
    isExpected: false,
  };
}

/** A bounded string field, or undefined. */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return value.length > DETAIL_CHARS ? `${value.slice(0, DETAIL_CHARS)}…` : value;
}

function keysOf(value: FieldRecord): string {
  const keys = Object.keys(value);
  if (keys.length === 0) return 'object with no keys';
  const shown = keys.slice(0, 5).map((k) => (k.length > 40 ? `${k.slice(0, 40)}…` : k));
  return `object with keys ${shown.join(', ')}${keys.length > 5 ? ` (and ${keys.length - 5} more)` : ''}`;
}

function jsonType(value: unknown): string {
  return value === null ? 'null' : typeof value;
}
