import type { ServiceLeaseRequest, ServiceLeaseResult } from './run-store-types.js';
import { isExpired, isoAfter } from './run-document-edits.js';

/**
 * The per-service deploy lease (DESIGN.md §4: two runs for one serving
 * service never deploy at the same time), as a stored record and pure
 * decisions. Unlike a step lease it belongs to a run, not to an attempt, so it
 * is re-entrant: a retried deploy of the same run keeps its place.
 */
export interface ServiceLease {
  readonly service: string;
  readonly runId: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

/** The lease to store (if any) and the answer. */
export interface ServiceLeaseDecision {
  readonly write?: ServiceLease;
  readonly result: ServiceLeaseResult;
}

/**
 * Free or expired → the requester takes it. Held by the same run → renewed
 * to now + ttl (acquiredAt kept). Held by another run and unexpired → refused
 * with the holder and its expiry.
 */
export function decideAcquireServiceLease(
  current: ServiceLease | undefined,
  request: ServiceLeaseRequest,
  now: Date,
): ServiceLeaseDecision {
  const expiresAt = isoAfter(now, request.ttlMs);
  if (current !== undefined && !isExpired(current.expiresAt, now)) {
    if (current.runId !== request.runId) {
      return {
        result: { acquired: false, holder: current.runId, expiresAt: current.expiresAt },
      };
    }
    return {
      write: { ...current, expiresAt },
      result: { acquired: true, expiresAt },
    };
  }
  return {
    write: {
      service: request.service,
      runId: request.runId,
      acquiredAt: now.toISOString(),
      expiresAt,
    },
    result: { acquired: true, expiresAt },
  };
}

/** True when the lease should be deleted: only its holder releases it. */
export function shouldReleaseServiceLease(
  current: ServiceLease | undefined,
  runId: string,
): boolean {
  return current !== undefined && current.runId === runId;
}
