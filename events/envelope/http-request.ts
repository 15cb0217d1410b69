/**
 * The raw parts of an HTTP push delivery: headers (case-insensitive, one value
 * each) and the body as text (bounded, strict UTF-8).
 */
import { preview } from '../validation/describe-errors.js';
import { accepted, invalid, type ParseResult } from '../result.js';
import { isRecord } from './read-fields.js';

/** Headers as Node's `IncomingHttpHeaders` gives them (any letter case is accepted). */
export type DeliveryHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Largest accepted body: a 1 MiB payload is about 1.4 MiB once base64-encoded
 * inside the envelope, so 2 MiB leaves room for the envelope and nothing more.
 */
export const MAX_DELIVERY_BYTES = 2 * 1024 * 1024;

/** Headers this package reads; others are ignored whatever they hold. */
function isRelevant(name: string): boolean {
  return name.startsWith('ce-') || name === 'content-type' || name === 'traceparent';
}

/** The relevant headers, lower-cased, each with exactly one string value. */
export function normaliseHeaders(headers: unknown): ParseResult<ReadonlyMap<string, string>> {
  if (!isRecord(headers)) return invalid(`headers must be an object, got ${preview(headers)}`);
  const normalised = new Map<string, string>();
  for (const [rawName, rawValue] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (!isRelevant(name) || rawValue === undefined) continue;
    const values: readonly unknown[] = Array.isArray(rawValue) ? rawValue : [rawValue];
    if (values.length === 0) continue;
    if (values.length > 1 || normalised.has(name))
      return invalid(`header ${name} appears more than once`);
    const value = values[0];
    if (typeof value !== 'string')
      return invalid(`header ${name} must be a string, got ${preview(value)}`);
    normalised.set(name, value);
  }
  return accepted(normalised);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text: at most MAX_DELIVERY_BYTES, valid UTF-8. */
export function bodyText(body: unknown): ParseResult<string> {
  if (typeof body === 'string') {
    const bytes = Buffer.byteLength(body, 'utf8');
    return bytes > MAX_DELIVERY_BYTES ? tooLarge(bytes) : accepted(body);
  }
  if (!(body instanceof Uint8Array)) {
    return invalid(`body must be a string or Buffer, got ${preview(body)}`);
  }
  if (body.byteLength > MAX_DELIVERY_BYTES) return tooLarge(body.byteLength);
  try {
    return accepted(utf8.decode(body));
  } catch {
    return invalid('body is not valid UTF-8');
  }
}

function tooLarge(bytes: number) {
  return invalid(`body is ${bytes} bytes, more than the ${MAX_DELIVERY_BYTES}-byte limit`);
}
