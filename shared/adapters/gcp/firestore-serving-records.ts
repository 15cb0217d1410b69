import type { CollectionReference, DocumentData, Firestore } from '@google-cloud/firestore';
import type { RunDocument } from '../../domain/run-document.js';
import type { EditContext } from '../../domain/run-document-edits.js';
import {
  decideServingChange,
  servingLookup,
  type RecordServingRequest,
  type RecordServingResult,
  type ServingRecord,
} from '../../domain/serving-record.js';
import { decideInTransaction } from './firestore-decisions.js';
import { documentId, fromFirestoreRun, toFirestoreRun } from './firestore-run-mapping.js';

/** Firestore's limit on the values of one `in` filter. */
const IN_LIMIT = 30;

/**
 * One serving change in one Firestore transaction: read the service's
 * record, the endpoint's live runs and the runs that deployed an observed
 * revision (all reads before any write, as transactions require), decide
 * with the domain, write the runs and the record. The callback has no side
 * effects: the client re-runs it on contention.
 */
export function recordServingInTransaction(
  client: Firestore,
  collections: { readonly runs: CollectionReference; readonly serving: CollectionReference },
  request: RecordServingRequest,
  context: EditContext,
): Promise<RecordServingResult> {
  const { runs, serving } = collections;
  const recordRef = serving.doc(documentId(request.service));
  const lookup = servingLookup(request);
  const ofEndpoint = runs.where('modelEndpointId', '==', request.modelEndpointId);
  return decideInTransaction(client, async (tx) => {
    const found = new Map<string, RunDocument>();
    const add = (data: DocumentData | undefined): void => {
      if (data === undefined) return;
      const run = fromFirestoreRun(data);
      found.set(run.runId, run);
    };
    const record = (await tx.get(recordRef)).data() as ServingRecord | undefined;
    for (const doc of (await tx.get(ofEndpoint.where('status', '==', 'live'))).docs)
      add(doc.data());
    for (let i = 0; i < lookup.revisions.length; i += IN_LIMIT) {
      const some = lookup.revisions.slice(i, i + IN_LIMIT);
      for (const doc of (await tx.get(ofEndpoint.where('serving.revision', 'in', some))).docs) {
        add(doc.data());
      }
    }
    for (const runId of lookup.runIds) {
      if (!found.has(runId)) add((await tx.get(runs.doc(documentId(runId)))).data());
    }
    const decision = decideServingChange(record, [...found.values()], request, context);
    for (const run of decision.runWrites) {
      tx.set(runs.doc(documentId(run.runId)), toFirestoreRun(run, runs.id));
    }
    if (decision.record) tx.set(recordRef, decision.record);
    return decision.result;
  });
}
