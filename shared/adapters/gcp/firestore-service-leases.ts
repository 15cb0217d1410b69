import type { DocumentReference, Firestore } from '@google-cloud/firestore';
import {
  decideAcquireServiceLease,
  shouldReleaseServiceLease,
} from '../../domain/service-lease.js';
import type { ServiceLeaseRequest, ServiceLeaseResult } from '../../domain/run-store-types.js';
import { fromFirestoreLease, toFirestoreLease } from './firestore-run-mapping.js';

/**
 * The per-service lease as one Firestore transaction on its document
 * (`service_leases/{service}`): read, the domain's decision, write. The
 * callback has no side effects because the client re-runs it on contention.
 */
export function acquireLeaseInTransaction(
  client: Firestore,
  ref: DocumentReference,
  request: ServiceLeaseRequest,
  now: Date,
): Promise<ServiceLeaseResult> {
  return client.runTransaction(async (tx) => {
    const data = (await tx.get(ref)).data();
    const current = data === undefined ? undefined : fromFirestoreLease(data);
    const decision = decideAcquireServiceLease(current, request, now);
    if (decision.write) tx.set(ref, toFirestoreLease(decision.write));
    return decision.result;
  });
}

/** Deletes the lease if `runId` holds it (only its holder releases it). */
export async function releaseLeaseInTransaction(
  client: Firestore,
  ref: DocumentReference,
  runId: string,
): Promise<void> {
  await client.runTransaction(async (tx) => {
    const data = (await tx.get(ref)).data();
    const current = data === undefined ? undefined : fromFirestoreLease(data);
    if (shouldReleaseServiceLease(current, runId)) tx.delete(ref);
  });
}
