/**
 * Decodes the CloudEvent Eventarc delivers for a Pub/Sub message
 * (`google.cloud.pubsub.topic.v1.messagePublished`) into the message metadata
 * and the JSON payload. Any other CloudEvent type is rejected: our triggers
 * only ever deliver Pub/Sub messages, so anything else is a misconfiguration.
 */
import { preview } from '../validation/describe-errors.js';
import { accepted, invalid, neverThrow, withContext, type ParseResult } from '../result.js';
import { readMessageData, readMessageFields, type PubSubMessageFields } from './pubsub-message.js';
import { MAX_EVENT_ID_CHARS } from './cloudevent.js';
import { isRecord, optionalString, requiredString, type FieldRecord } from './read-fields.js';

/** The CloudEvent type of a Pub/Sub message delivered by Eventarc. */
export const MESSAGE_PUBLISHED_TYPE = 'google.cloud.pubsub.topic.v1.messagePublished';

/** Who delivered a message and how: everything about a delivery except its payload. */
export interface PubSubMessageMeta extends PubSubMessageFields {
  /** The CloudEvent id (for Pub/Sub, the message id). Never an idempotency key: a republished event gets a new one. */
  readonly eventId: string;
  /** Approximate; 0 or absent unless the subscription has a dead-letter policy. */
  readonly deliveryAttempt?: number;
  readonly subscription?: string;
}

/** A decoded Pub/Sub delivery: metadata plus the JSON-parsed `message.data`. */
export interface PubSubDelivery extends PubSubMessageMeta {
  readonly payload: unknown;
}

/** Decodes a `messagePublished` CloudEvent (any object shaped like one); never throws. */
export function decodePubSubCloudEvent(ce: unknown): ParseResult<PubSubDelivery> {
  return safeDecode(ce);
}

const safeDecode = neverThrow('CloudEvent', (ce: unknown): ParseResult<PubSubDelivery> => {
  if (!isRecord(ce)) return invalid(`CloudEvent must be an object, got ${preview(ce)}`);
  const id = requiredString(ce.id, 'CloudEvent id', MAX_EVENT_ID_CHARS);
  if (!id.ok) return id;
  const decoded = decodeWithId(ce, id.value);
  return decoded.ok ? decoded : withContext(decoded, { eventId: id.value });
});

function decodeWithId(ce: FieldRecord, eventId: string): ParseResult<PubSubDelivery> {
  const type = ce.type;
  if (type !== MESSAGE_PUBLISHED_TYPE) {
    return invalid(
      `CloudEvent type ${preview(type)} is not accepted (expected ${MESSAGE_PUBLISHED_TYPE})`,
    );
  }
  const data = ce.data;
  if (!isRecord(data)) {
    return invalid(`CloudEvent data must be a MessagePublishedData object, got ${preview(data)}`);
  }
  const message = data.message;
  if (!isRecord(message)) return invalid(`message must be an object, got ${preview(message)}`);
  const fields = readMessageFields(message);
  if (!fields.ok) return fields;
  const subscription = optionalString(data.subscription, 'subscription', 1024);
  if (!subscription.ok) return subscription;
  const deliveryAttempt = data.deliveryAttempt;
  if (deliveryAttempt !== undefined && deliveryAttempt !== null && !isCount(deliveryAttempt)) {
    return invalid(
      `deliveryAttempt must be a non-negative integer, got ${preview(deliveryAttempt)}`,
    );
  }
  const payload = readMessageData(message.data);
  if (!payload.ok) return payload;
  return accepted({
    eventId,
    ...fields.value,
    ...(isCount(deliveryAttempt) ? { deliveryAttempt } : {}),
    ...(subscription.value ? { subscription: subscription.value } : {}),
    payload: payload.value,
  });
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
