/**
 * Turns what a Google API client throws into recdeploy errors, so every cloud
 * adapter makes the same ack/retry decision for the same gRPC status.
 */
import { PermanentError, RecdeployError, TransientError, type ErrorCode } from '../../errors.js';

/** gRPC status codes by name (google.rpc.Code). */
export const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Codes after which the call may or may not have happened: read the state back before retrying. */
const AMBIGUOUS = new Set<number>([GRPC.CANCELLED, GRPC.UNKNOWN, GRPC.DEADLINE_EXCEEDED]);
/** Codes a later attempt may not meet. */
const PASSING = new Set<number>([
  ...AMBIGUOUS,
  GRPC.RESOURCE_EXHAUSTED,
  GRPC.INTERNAL,
  GRPC.UNAVAILABLE,
]);
/** Someone else changed the resource meanwhile (etag mismatch): re-read and try again. */
const CONFLICT = new Set<number>([GRPC.ABORTED, GRPC.FAILED_PRECONDITION]);

/** The gRPC status code of a client error, if it has one. */
export function grpcCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** True for an error after which the call may have taken effect. */
export function isAmbiguous(error: unknown): boolean {
  const code = grpcCodeOf(error);
  return code !== undefined && AMBIGUOUS.has(code);
}

export function isNotFound(error: unknown): boolean {
  return grpcCodeOf(error) === GRPC.NOT_FOUND;
}

export interface ApiErrorContext {
  /** e.g. "Vertex AI uploadModel". */
  readonly call: string;
  /** Code for requests the API refuses for good (invalid argument, permission denied…). */
  readonly rejected: ErrorCode;
  /** Code for etag/precondition conflicts; they are retried. */
  readonly conflict?: ErrorCode;
}

/**
 * Classifies a client error: passing and ambiguous failures → TransientError
 * `DEPENDENCY.UNAVAILABLE`; conflicts → TransientError `context.conflict`;
 * NOT_FOUND, refusals and anything else with a gRPC code → PermanentError
 * `context.rejected` (permission problems are not fixed by retrying; the run
 * records the message so an operator can fix IAM and publish again).
 * Errors without a gRPC code (bugs, our own errors) pass through toRecdeployError's
 * rule: unknown means retry.
 */
export function toApiError(error: unknown, context: ApiErrorContext): RecdeployError {
  if (error instanceof RecdeployError) return error;
  const code = grpcCodeOf(error);
  const details = describe(error);
  const message = `${context.call} failed: ${details}`;
  const metadata = { grpcCode: code ?? null, call: context.call };
  if (code === undefined)
    return new TransientError('INTERNAL', message, { cause: error, metadata });
  if (PASSING.has(code)) {
    return new TransientError('DEPENDENCY.UNAVAILABLE', message, {
      cause: error,
      metadata: { ...metadata, ambiguous: AMBIGUOUS.has(code) },
    });
  }
  if (CONFLICT.has(code) && context.conflict !== undefined) {
    return new TransientError(context.conflict, message, { cause: error, metadata });
  }
  return new PermanentError(context.rejected, message, { cause: error, metadata });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const details = (error as { details?: unknown }).details;
    return typeof details === 'string' && details !== '' ? details : error.message;
  }
  return String(error);
}
