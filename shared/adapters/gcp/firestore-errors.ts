import { RecdeployError, TransientError } from '../../errors.js';

/** gRPC status codes: ALREADY_EXISTS, and those that a later try may not meet. */
const ALREADY_EXISTS = 6;
const PASSING = new Set([
  1, // CANCELLED
  2, // UNKNOWN
  4, // DEADLINE_EXCEEDED (ambiguous: the write may have happened; our writes are idempotent)
  8, // RESOURCE_EXHAUSTED
  10, // ABORTED (contention beyond the client's own retries)
  13, // INTERNAL
  14, // UNAVAILABLE
]);

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** True for Firestore's ALREADY_EXISTS (a create() precondition that failed). */
export function isAlreadyExists(error: unknown): boolean {
  return grpcCode(error) === ALREADY_EXISTS;
}

/**
 * A Firestore failure that may pass becomes TransientError 'STORE.UNAVAILABLE'
 * (the delivery is retried); our own errors and anything else pass unchanged.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof RecdeployError) return error;
  const code = grpcCode(error);
  if (code !== undefined && PASSING.has(code)) {
    return new TransientError('STORE.UNAVAILABLE', `firestore: ${String(error)}`, {
      cause: error,
      metadata: { grpcCode: code },
    });
  }
  return error;
}

/** Runs a Firestore call, its failures as toStoreError makes them. */
export async function storeCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toStoreError(error);
  }
}
