/**
 * Cloud Storage client errors as recdeploy errors: permanent for refusals
 * and missing objects, retryable for rate limits, 5xx and the network.
 */
import { PermanentError, RecdeployError, TransientError } from '../../errors.js';

export function tooLarge(uri: string, size: number, maxBytes: number): PermanentError {
  return new PermanentError(
    'ARTIFACT.TOO_LARGE',
    `${uri} is ${size} bytes, above the ${maxBytes}-byte limit for text artifacts`,
    { metadata: { uri, size, maxBytes } },
  );
}

/** The HTTP status of a Cloud Storage client error (its `code`), if it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  return typeof code === 'string' && /^\d{3}$/.test(code) ? Number(code) : undefined;
}

/**
 * 404 → `ARTIFACT.NOT_FOUND`; 401/403 and other refusals → `ARTIFACT.FORBIDDEN`
 * (permanent: retrying does not fix IAM or a bad name); 408, 429, 5xx and
 * failures without an HTTP status (network, integrity check, local disk) →
 * TransientError `DEPENDENCY.UNAVAILABLE`.
 */
export function toStorageError(error: unknown, action: string, uri: string): RecdeployError {
  if (error instanceof RecdeployError) return error;
  const status = httpStatusOf(error);
  const options = { cause: error, metadata: { uri, action, httpStatus: status ?? null } };
  const message = `Cloud Storage ${action} of ${uri} failed${
    status === undefined ? '' : ` (HTTP ${status})`
  }: ${describe(error)}`;
  if (status === 404) return new PermanentError('ARTIFACT.NOT_FOUND', message, options);
  if (status === undefined || status === 408 || status === 429 || status >= 500) {
    return new TransientError('DEPENDENCY.UNAVAILABLE', message, options);
  }
  return new PermanentError('ARTIFACT.FORBIDDEN', message, options);
}

/** The error's message; a JSON API error body (downloads report those raw) is unwrapped. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  try {
    const body = JSON.parse(message) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: the message is already readable
  }
  return message;
}
