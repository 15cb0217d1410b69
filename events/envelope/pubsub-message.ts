/**
 * Reads the Pub/Sub message inside an Eventarc `messagePublished` CloudEvent
 * (`MessagePublishedData`): metadata checked field by field, `message.data`
 * decoded strictly (base64 → UTF-8 → JSON).
 */
import { MAX_EVENT_DATA_BYTES } from '../validation/json-data.js';
import { accepted, describeThrown, excerptOf, invalid, type ParseResult } from '../result.js';
import { preview } from '../validation/describe-errors.js';
import { duplicatedString, isRecord, optionalString, type FieldRecord } from './read-fields.js';
import { decodeStrictBase64 } from './strict-base64.js';

/** Pub/Sub limits (https://cloud.google.com/pubsub/quotas): 100 attributes, 256-byte keys, 1024-byte values. */
const MAX_ATTRIBUTES = 100;
const MAX_ATTRIBUTE_KEY_CHARS = 256;
const MAX_ATTRIBUTE_VALUE_CHARS = 1024;
const MAX_META_CHARS = 1024;

/** The message's metadata, exactly as delivered. */
export interface PubSubMessageFields {
  readonly messageId: string;
  readonly publishTime: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly orderingKey?: string;
}

/** `message.attributes`: absent means none; otherwise string values only, within Pub/Sub's limits. */
export function readAttributes(value: unknown): ParseResult<Readonly<Record<string, string>>> {
  if (value === undefined || value === null) return accepted({});
  if (!isRecord(value))
    return invalid(`message.attributes must be an object, got ${preview(value)}`);
  const entries = Object.entries(value);
  if (entries.length > MAX_ATTRIBUTES) {
    return invalid(
      `message.attributes has ${entries.length} entries, more than the ${MAX_ATTRIBUTES} allowed`,
    );
  }
  for (const [key, attribute] of entries) {
    if (key.length > MAX_ATTRIBUTE_KEY_CHARS) {
      return invalid(
        `message.attributes has a key of ${key.length} characters, more than ${MAX_ATTRIBUTE_KEY_CHARS}`,
      );
    }
    const read = optionalString(
      attribute,
      `message.attributes[${JSON.stringify(key)}]`,
      MAX_ATTRIBUTE_VALUE_CHARS,
    );
    if (!read.ok) return read;
  }
  // fromEntries defines own properties, so a "__proto__" attribute stays a plain key.
  return accepted(Object.fromEntries(entries) as Record<string, string>);
}

/** The message metadata: id, publish time (either spelling), attributes, ordering key. */
export function readMessageFields(message: FieldRecord): ParseResult<PubSubMessageFields> {
  const messageId = duplicatedString(message, 'messageId', 'message_id', 'message', 256);
  if (!messageId.ok) return messageId;
  const publishTime = duplicatedString(message, 'publishTime', 'publish_time', 'message', 64);
  if (!publishTime.ok) return publishTime;
  if (Number.isNaN(Date.parse(publishTime.value))) {
    return invalid(`message.publishTime ${preview(publishTime.value)} is not a timestamp`);
  }
  const attributes = readAttributes(message.attributes);
  if (!attributes.ok) return attributes;
  const orderingKey = optionalString(message.orderingKey, 'message.orderingKey', MAX_META_CHARS);
  if (!orderingKey.ok) return orderingKey;
  return accepted({
    messageId: messageId.value,
    publishTime: publishTime.value,
    attributes: attributes.value,
    ...(orderingKey.value ? { orderingKey: orderingKey.value } : {}),
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `message.data`: base64 of UTF-8 JSON, at most MAX_EVENT_DATA_BYTES once decoded. */
export function readMessageData(value: unknown): ParseResult<unknown> {
  if (value === undefined || value === null) {
    return invalid('message.data is missing (a message with attributes only carries no event)');
  }
  if (typeof value !== 'string') {
    return invalid(`message.data must be a base64 string, got ${preview(value)}`);
  }
  const bytes = decodeStrictBase64(value, 'message.data', MAX_EVENT_DATA_BYTES);
  if (!bytes.ok) return bytes;
  let text: string;
  try {
    text = utf8.decode(bytes.value);
  } catch {
    return invalid('message.data is not valid UTF-8', { excerpt: excerptOf(value) });
  }
  try {
    return accepted(JSON.parse(text) as unknown);
  } catch (error) {
    return invalid(`message.data is not valid JSON: ${describeThrown(error)}`, {
      excerpt: excerptOf(text),
    });
  }
}
