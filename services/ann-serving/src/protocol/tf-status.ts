/**
 * TensorFlow's canonical status codes and the one table that turns them into
 * HTTP status codes (`ToHTTPStatusCode` in TF Serving's http_server.cc).
 * Every failure the REST API reports is a TfStatusError; its message becomes
 * the body `{"error": "<message>"}`.
 */

export type TfStatusCode =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'OUT_OF_RANGE'
  | 'NOT_FOUND'
  | 'RESOURCE_EXHAUSTED'
  | 'UNIMPLEMENTED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

const HTTP_STATUS: Readonly<Record<TfStatusCode, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** A failed request, with the canonical code TF Serving would use. */
export class TfStatusError extends Error {
  constructor(
    readonly code: TfStatusCode,
    message: string,
    /** Seconds a client should wait before retrying (503 answers). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'TfStatusError';
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  /** `status.ToString()`, which TF Serving embeds when it wraps an error. */
  toStatusString(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** Shorthand for the most common failure: a client's malformed request. */
export function invalidArgument(message: string): TfStatusError {
  return new TfStatusError('INVALID_ARGUMENT', message);
}
