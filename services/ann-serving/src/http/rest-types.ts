/**
 * The request and response the handlers see: plain values, no sockets, so
 * the whole protocol is unit-testable without a server.
 */
import { TfStatusError } from '../protocol/tf-status.js';

export interface RestRequest {
  readonly method: string;
  /** The request target as sent: path plus query string, not normalised. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body bytes (already un-gzipped), whatever the Content-Type said. */
  readonly body: Uint8Array;
  /** Aborted when the client's connection closed before the answer: drop the work. */
  readonly signal?: AbortSignal;
  /** When the request arrived (performance.now()), for queue-delay admission. */
  readonly arrivedAt?: number;
}

export interface RestResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** A fixed route name for metrics (never the URL). */
  readonly route: string;
}

/** TF Serving sends exactly this Content-Type on every /v1 answer, errors included. */
export const JSON_HEADERS = Object.freeze({ 'Content-Type': 'application/json' });

/** A successful /v1 answer. */
export function jsonResponse(route: string, body: string): RestResponse {
  return { status: 200, headers: JSON_HEADERS, body, route };
}

/** `{"error": "<message>"}` with TF Serving's status code (and Retry-After on 503). */
export function errorResponse(route: string, error: TfStatusError): RestResponse {
  const headers =
    error.retryAfterSeconds === undefined
      ? JSON_HEADERS
      : { ...JSON_HEADERS, 'Retry-After': String(error.retryAfterSeconds) };
  return {
    status: error.httpStatus,
    headers,
    body: JSON.stringify({ error: error.message }),
    route,
  };
}
