/**
 * Rejected events in Firestore, bounded two ways:
 * - by age: `expireAt` (REJECTED_EVENT_MAX_AGE_MS after receipt) carries a
 *   TTL policy (deploy/setup.sh), so Firestore deletes old ones itself;
 * - per group (kind, else code): after each new record, the group's size is
 *   counted (an aggregation: about one read per 1,000 entries); once it is
 *   PRUNE_SLACK over MAX_REJECTED_EVENTS_PER_GROUP, all but the newest MAX
 *   are deleted, so a flood of one kind of poison cannot push out the others.
 *
 * Why not a counter document per group: a flood writes one group many times
 * a second, and Firestore's guidance is about one sustained write per second
 * per document (reference gcp-facts.md §E, "Per-document writes"); a
 * counter would serialise the flood on one hot document. Deletes go in one
 * batch of at most PRUNE_BATCH, well under the 500 writes a commit may hold
 * (same section). The group's range is one field, `groupAt` (group, a
 * newline, then the ISO time), so the count and the oldest-first query are
 * served by Firestore's automatic single-field index: no composite index to
 * deploy.
 */
import type { CollectionReference, Query } from '@google-cloud/firestore';
import { MAX_REJECTED_EVENTS_PER_GROUP, rejectedEventGroup } from '../../domain/run-queries.js';
import type { Logger } from '../../logging/logger.port.js';
import type { RejectedEvent } from '../../ports/run-store.port.js';
import { documentId, fromFirestoreRejected, toFirestoreRejected } from './firestore-run-mapping.js';
import { isAlreadyExists, toStoreError } from './firestore-errors.js';

/** Most deletes one prune makes. */
const PRUNE_BATCH = 100;
/** How far over its bound a group may grow before it is pruned (see pruneGroup). */
const PRUNE_SLACK = 20;

/** The field the group bound is queried on (written by toFirestoreRejected). */
const GROUP_AT_FIELD = 'groupAt';

/** Records a bounded event (the first record of an id wins), then bounds its group. */
export async function recordRejectedIn(
  collection: CollectionReference,
  event: RejectedEvent,
  logger: Logger | undefined,
): Promise<void> {
  const ref = collection.doc(documentId(event.eventId));
  try {
    // create(): a redelivered rejection keeps the first record.
    await ref.create(toFirestoreRejected(event));
  } catch (error) {
    if (isAlreadyExists(error)) return;
    throw toStoreError(error);
  }
  try {
    await pruneGroup(collection, rejectedEventGroup(event));
  } catch (error) {
    // The record is written; a bound left for the next record is no reason to redeliver.
    const message = `rejected events of group ${rejectedEventGroup(event)} could not be pruned`;
    if (logger) logger.warn(message, { error: String(error) });
    else process.emitWarning(`${message}: ${String(error)}`);
  }
}

/** The newest `limit` rejected events. */
export async function listRejectedIn(
  collection: CollectionReference,
  limit: number,
): Promise<readonly RejectedEvent[]> {
  try {
    const snapshot = await collection.orderBy('receivedAt', 'desc').limit(limit).get();
    return snapshot.docs.map((doc) => fromFirestoreRejected(doc.data()));
  } catch (error) {
    throw toStoreError(error);
  }
}

async function pruneGroup(collection: CollectionReference, group: string): Promise<void> {
  // '\n' < '\u000b': exactly the values that start with `${group}\n`.
  const ofGroup: Query = collection
    .where(GROUP_AT_FIELD, '>=', `${group}\n`)
    .where(GROUP_AT_FIELD, '<', `${group}\u000b`);
  const { count } = (await ofGroup.count().get()).data();
  if (count <= MAX_REJECTED_EVENTS_PER_GROUP + PRUNE_SLACK) return;
  // Everything after the newest MAX, newest first: concurrent prunes agree on
  // what to delete and never touch the newest. The skipped entries are
  // billed as reads, hence the slack: this runs once per PRUNE_SLACK records.
  const older = await ofGroup
    .orderBy(GROUP_AT_FIELD, 'desc')
    .offset(MAX_REJECTED_EVENTS_PER_GROUP)
    .limit(PRUNE_BATCH)
    .select()
    .get();
  const batch = collection.firestore.batch();
  for (const doc of older.docs) batch.delete(doc.ref);
  await batch.commit();
}
