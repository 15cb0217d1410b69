/**
 * Joins the two layers every subscriber needs: decode the Pub/Sub CloudEvent,
 * then parse its payload. The result keeps the delivery metadata next to the
 * parsed event, and every rejection carries the event id.
 */
import { decodePubSubCloudEvent, type PubSubMessageMeta } from './envelope/pubsub-cloudevent.js';
import { explainEnvelopeRejection, explainPayloadRejection } from './explain-rejection.js';
import { accepted, withContext, type ParseResult } from './result.js';

/** A parsed event plus how it was delivered. */
export type WithDelivery<T> = T & { readonly delivery: PubSubMessageMeta };

/** A parsed event with the key a subscriber deduplicates on. */
export interface KeyedEvent<T> {
  /** Business identity (the run id), never the message id: a republished event gets a new message id. */
  readonly idempotencyKey: string;
  readonly message: T;
}

/** A hand-off event as a subscriber sees it: key, message and delivery metadata. */
export type DeliveredEvent<T> = WithDelivery<KeyedEvent<T>>;

/**
 * Decodes `ce` and parses its payload with `parsePayload`; never throws. A
 * rejection says first what arrived instead of an `expected` message
 * (explain-rejection.ts) and carries the event id.
 */
export function decodeAndParse<T extends object>(
  ce: unknown,
  parsePayload: (payload: unknown) => ParseResult<T>,
  expected: string,
): ParseResult<WithDelivery<T>> {
  const decoded = decodePubSubCloudEvent(ce);
  if (!decoded.ok) return explainEnvelopeRejection(decoded, ce, expected);
  const { payload, ...delivery } = decoded.value;
  const parsed = parsePayload(payload);
  if (!parsed.ok) {
    const explained = explainPayloadRejection(parsed, payload, expected);
    return withContext(explained, { eventId: delivery.eventId });
  }
  return accepted({ ...parsed.value, delivery });
}

/** Wraps a payload parser of a hand-off event so its result carries the run id as idempotency key. */
export function keyedByRunId<T extends { readonly run_id: string }>(
  parse: (payload: unknown) => ParseResult<T>,
): (payload: unknown) => ParseResult<KeyedEvent<T>> {
  return (payload) => {
    const parsed = parse(payload);
    return parsed.ok
      ? accepted({ idempotencyKey: parsed.value.run_id, message: parsed.value })
      : parsed;
  };
}
