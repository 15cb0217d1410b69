/**
 * Turns an arbitrary value into a detached copy of plain JSON data before it
 * is validated. Validating the copy, not the caller's object, means getters run
 * once (a getter cannot return one value to the check and another to the
 * handler), functions and symbols vanish, and what was checked is exactly what
 * is returned.
 */
import { accepted, describeThrown, excerptOf, invalid, type ParseResult } from '../result.js';

/** Largest accepted event payload, as UTF-8 JSON (Pub/Sub allows 10 MB; our events are small). */
export const MAX_EVENT_DATA_BYTES = 1024 * 1024;

/** Plain JSON data plus its serialised text (for size checks and excerpts). */
export interface JsonData {
  readonly value: unknown;
  readonly text: string;
}

/** A detached JSON copy of `payload`, or a rejection when it is not JSON data or too large. */
export function toJsonData(payload: unknown): ParseResult<JsonData> {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (error) {
    return invalid(`payload is not JSON data: ${describeThrown(error)}`);
  }
  if (text === undefined) return invalid(`payload is not JSON data: got ${typeof payload}`);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_EVENT_DATA_BYTES) {
    return invalid(
      `payload is ${bytes} bytes of JSON, more than the ${MAX_EVENT_DATA_BYTES}-byte limit`,
      { excerpt: excerptOf(text) },
    );
  }
  return accepted({ value: JSON.parse(text) as unknown, text });
}
