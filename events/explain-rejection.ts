/**
 * Puts "what arrived" in front of a rejection (payload-kind.ts), at each
 * layer a delivery can fail: the HTTP request, the Pub/Sub CloudEvent, the
 * payload. A rejection that already has a kind (a PipelineJob entry says its
 * own) is left alone. Never throws: the input may be anything.
 */
import { MESSAGE_PUBLISHED_TYPE } from './envelope/pubsub-cloudevent.js';
import { isRecord } from './envelope/read-fields.js';
import {
  AUDIT_LOG_WRITTEN_TYPE,
  describeLogEntry,
  describePayload,
  explainRejectedPayload,
  PAYLOAD_KINDS,
} from './payload-kind.js';
import { describeThrown, type Rejected } from './result.js';
import { preview } from './validation/describe-errors.js';

/** A payload (message.data, decoded) that failed its parser. */
export function explainPayloadRejection(
  rejected: Rejected,
  payload: unknown,
  expected: string,
): Rejected {
  if (rejected.rejection.kind !== undefined) return rejected;
  return guarded(rejected, () => {
    const described = describePayload(payload, expected);
    const reason = explainRejectedPayload(described, expected, rejected.rejection.reason);
    return { kind: described.kind, reason };
  });
}

/** A CloudEvent that is not a readable Pub/Sub delivery (wrong type, bad base64, …). */
export function explainEnvelopeRejection(
  rejected: Rejected,
  ce: unknown,
  expected: string,
): Rejected {
  if (rejected.rejection.kind !== undefined) return rejected;
  return guarded(rejected, () => {
    const type = isRecord(ce) ? ce.type : undefined;
    const reason = rejected.rejection.reason;
    if (type === AUDIT_LOG_WRITTEN_TYPE) {
      const data = isRecord(ce) ? ce.data : undefined;
      const entry = isRecord(data) ? describeLogEntry(data) : undefined;
      const what = entry?.description ?? `a ${PAYLOAD_KINDS.auditLog}`;
      return {
        kind: PAYLOAD_KINDS.auditLog,
        reason: `${what}, delivered by an Eventarc audit-log trigger, is not a ${expected} message: ${reason}`,
      };
    }
    if (typeof type === 'string' && type !== MESSAGE_PUBLISHED_TYPE) {
      return {
        kind: PAYLOAD_KINDS.otherCloudEvent,
        reason: `a CloudEvent of type ${preview(type)} is not a ${expected} message: ${reason}`,
      };
    }
    return {
      kind: PAYLOAD_KINDS.malformedDelivery,
      reason: `a malformed Pub/Sub delivery: ${reason}`,
    };
  });
}

/**
 * An HTTP body that is JSON but not a CloudEvent, with what it looks like
 * instead (often a message posted straight to the function, not to its topic).
 */
export function explainHttpRejection(rejected: Rejected, body: string, expected: string): Rejected {
  if (rejected.rejection.kind !== undefined) return rejected;
  return guarded(rejected, () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return {
        kind: PAYLOAD_KINDS.notCloudEvent,
        reason: `a body that is not JSON: ${rejected.rejection.reason}`,
      };
    }
    const described = describePayload(parsed, expected);
    // A Pub/Sub push subscription aimed at the function directly, not through Eventarc.
    const rawPush = isRecord(parsed) && isRecord(parsed.message) && 'subscription' in parsed;
    const what = rawPush ? 'a Pub/Sub push body (not through Eventarc)' : described.description;
    return {
      kind: PAYLOAD_KINDS.notCloudEvent,
      reason: `${what} is not a CloudEvent (publish ${expected} messages to the topic; Eventarc delivers them): ${rejected.rejection.reason}`,
    };
  });
}

function guarded(
  rejected: Rejected,
  explain: () => { readonly kind: string; readonly reason: string },
): Rejected {
  try {
    const { kind, reason } = explain();
    return { ok: false, rejection: { ...rejected.rejection, reason, kind } };
  } catch (error) {
    // A hostile payload (throwing getter, proxy) keeps its original reason.
    return {
      ok: false,
      rejection: {
        ...rejected.rejection,
        kind: PAYLOAD_KINDS.unrecognised,
        reason: `${rejected.rejection.reason} (the payload could not be described: ${describeThrown(error)})`,
      },
    };
  }
}
