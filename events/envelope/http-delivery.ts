/**
 * Decodes an HTTP push delivery into a CloudEvent, as the Functions Framework
 * does: binary content mode when all four of ce-id, ce-type, ce-source and
 * ce-specversion are present (attributes in headers, data in the body),
 * structured mode otherwise (the body is the whole CloudEvent as JSON).
 */
import { preview } from '../validation/describe-errors.js';
import {
  accepted,
  describeThrown,
  excerptOf,
  invalid,
  neverThrow,
  withContext,
  type ParseResult,
  type Rejected,
} from '../result.js';
import { pickExtensions, readCoreAttributes, type CloudEventLike } from './cloudevent.js';
import { bodyText, normaliseHeaders, type DeliveryHeaders } from './http-request.js';
import { isRecord } from './read-fields.js';

/** The headers whose presence selects binary mode. */
export const BINARY_MODE_HEADERS = ['ce-id', 'ce-type', 'ce-source', 'ce-specversion'] as const;

/** Decodes headers and body into a CloudEvent, or says precisely why not; never throws. */
export function decodeHttpDelivery(
  headers: DeliveryHeaders,
  body: string | Buffer,
): ParseResult<CloudEventLike> {
  return safeDecode(headers, body);
}

const safeDecode = neverThrow(
  'HTTP delivery',
  (headers: unknown, body: unknown): ParseResult<CloudEventLike> => {
    const normalised = normaliseHeaders(headers);
    if (!normalised.ok) return normalised;
    const text = bodyText(body);
    if (!text.ok) return text;
    const found = normalised.value;
    const missing = BINARY_MODE_HEADERS.filter((name) => !found.get(name));
    if (missing.length === 0) return decodeBinary(found, text.value);
    const hint =
      missing.length === BINARY_MODE_HEADERS.length
        ? 'structured mode: no ce-* headers were sent'
        : `structured mode: binary mode needs all of ${BINARY_MODE_HEADERS.join(', ')}; missing ${missing.join(', ')}`;
    const structured = decodeStructured(text.value, found.get('traceparent'));
    return structured.ok ? structured : explainMode(structured, hint);
  },
);

/** Says which content mode was assumed, so a sender missing one ce-* header sees why. */
function explainMode(rejected: Rejected, hint: string): Rejected {
  return {
    ok: false,
    rejection: { ...rejected.rejection, reason: `${rejected.rejection.reason} (${hint})` },
  };
}

function decodeBinary(
  headers: ReadonlyMap<string, string>,
  text: string,
): ParseResult<CloudEventLike> {
  const attributes = readCoreAttributes(
    (name) =>
      headers.get(`ce-${name}`) ??
      (name === 'datacontenttype' ? headers.get('content-type') : undefined),
    (name) => `header ce-${name}`,
  );
  if (!attributes.ok) return attributes;
  const data = parseJson(text);
  if (!data.ok)
    return withContext(data, { eventId: attributes.value.id, excerpt: excerptOf(text) });
  const extensions = pickExtensions(
    [...headers]
      .filter(([name]) => name.startsWith('ce-'))
      .map(([name, value]) => [name.slice(3), value]),
  );
  const traceparent = headers.get('traceparent');
  return accepted({
    ...attributes.value,
    extensions: traceparent === undefined ? extensions : { traceparent, ...extensions },
    data: data.value,
  });
}

function decodeStructured(
  text: string,
  traceparent: string | undefined,
): ParseResult<CloudEventLike> {
  const excerpt = excerptOf(text);
  const parsed = parseJson(text);
  if (!parsed.ok) return withContext(parsed, { excerpt });
  const event = parsed.value;
  if (!isRecord(event)) {
    return invalid(`body must be a CloudEvent JSON object, got ${preview(event)}`, { excerpt });
  }
  const attributes = readCoreAttributes(
    (name) => event[name],
    (name) => `CloudEvent ${name}`,
  );
  if (!attributes.ok) return withContext(attributes, { excerpt });
  const context = { eventId: attributes.value.id, excerpt };
  if (!Object.hasOwn(event, 'data')) {
    return Object.hasOwn(event, 'data_base64')
      ? invalid(
          'CloudEvent data_base64 is not supported: Pub/Sub CloudEvents carry JSON data',
          context,
        )
      : invalid('CloudEvent data is missing', context);
  }
  const extensions = pickExtensions(Object.entries(event));
  return accepted({
    ...attributes.value,
    extensions: traceparent === undefined ? extensions : { traceparent, ...extensions },
    data: event.data,
  });
}

function parseJson(text: string): ParseResult<unknown> {
  if (text.trim() === '') return invalid('body is empty');
  try {
    return accepted(JSON.parse(text) as unknown);
  } catch (error) {
    return invalid(`body is not valid JSON: ${describeThrown(error)}`);
  }
}
