import { Timestamp, type DocumentData } from '@google-cloud/firestore';
import { PermanentError } from '../../errors.js';
import { RUN_STATUSES, type RunDocument, type StepState } from '../../domain/run-document.js';
import { assertDocumentSize } from '../../domain/run-document-bounds.js';
import { dropUndefined } from '../../domain/run-document-edits.js';
import type { ServiceLease } from '../../domain/service-lease.js';
import { REJECTED_EVENT_MAX_AGE_MS, rejectedEventGroup } from '../../domain/run-queries.js';
import type { RejectedEvent } from '../../ports/run-store.port.js';

/**
 * RunDocument ↔ Firestore data (DESIGN.md §4 layout: camelCase fields, nested
 * maps). Times become Firestore Timestamps so console queries and external
 * dashboards can order and filter on them; `undefined` fields are dropped
 * (Firestore refuses them). Our ISO strings carry milliseconds, which a
 * Timestamp holds exactly, so a document round-trips unchanged.
 */

/** How long a rejected event is kept where a Firestore TTL policy on `expireAt` is set. */
export const REJECTED_EVENT_TTL_MS = REJECTED_EVENT_MAX_AGE_MS;

/** The Firestore fields of a run; refuses a document over the size bound. */
export function toFirestoreRun(run: RunDocument, collection = 'deployments'): DocumentData {
  const clean = dropUndefined(run);
  assertDocumentSize(clean, collection);
  const steps: Record<string, DocumentData> = {};
  for (const [name, step] of Object.entries(clean.steps)) steps[name] = stepToFirestore(step);
  return {
    ...clean,
    ...(clean.completedAt === undefined ? {} : { completedAt: toTimestamp(clean.completedAt) }),
    createdAt: toTimestamp(clean.createdAt),
    updatedAt: toTimestamp(clean.updatedAt),
    steps,
    history: clean.history.map((entry) => ({ ...entry, at: toTimestamp(entry.at) })),
  };
}

/**
 * A run from Firestore fields. Every Timestamp, wherever it is, becomes an ISO
 * string; a document without a runId or a known status is refused rather
 * than handed to the state machine.
 */
export function fromFirestoreRun(data: DocumentData): RunDocument {
  const run = timestampsToIso(data) as RunDocument;
  if (typeof run.runId !== 'string' || !RUN_STATUSES.includes(run.status)) {
    throw new PermanentError('STORE.CONFLICT', 'stored run document is malformed', {
      metadata: { runId: typeof run.runId === 'string' ? run.runId : null },
    });
  }
  return run;
}

/** The Firestore fields of a service lease. */
export function toFirestoreLease(lease: ServiceLease): DocumentData {
  return {
    ...lease,
    acquiredAt: toTimestamp(lease.acquiredAt),
    expiresAt: toTimestamp(lease.expiresAt),
  };
}

/** A service lease from Firestore fields. */
export function fromFirestoreLease(data: DocumentData): ServiceLease {
  return timestampsToIso(data) as ServiceLease;
}

/**
 * The Firestore fields of a rejected event, with `expireAt` for a TTL policy
 * and `groupAt` (group, newline, ISO time) for the per-group bound
 * (firestore-rejected-events.ts).
 */
export function toFirestoreRejected(event: RejectedEvent): DocumentData {
  const clean = dropUndefined(event);
  const received = toTimestamp(clean.receivedAt);
  return {
    ...clean,
    receivedAt: received,
    expireAt: Timestamp.fromMillis(received.toMillis() + REJECTED_EVENT_TTL_MS),
    groupAt: `${rejectedEventGroup(clean)}\n${received.toDate().toISOString()}`,
  };
}

/** A rejected event from Firestore fields (expireAt and groupAt are storage detail, dropped). */
export function fromFirestoreRejected(data: DocumentData): RejectedEvent {
  const event = timestampsToIso(data) as Record<string, unknown>;
  delete event.expireAt;
  delete event.groupAt;
  return event as unknown as RejectedEvent;
}

/** A Firestore document id for any of our ids ('/' would nest a path). */
export function documentId(id: string): string {
  return encodeURIComponent(id);
}

/** An ISO-8601 time as a Timestamp; refuses text that is not a time. */
export function toTimestamp(iso: string): Timestamp {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) {
    throw new PermanentError('STORE.CONFLICT', `not a time: ${iso.slice(0, 100)}`);
  }
  return Timestamp.fromMillis(ms);
}

function stepToFirestore(step: StepState): DocumentData {
  return {
    ...step,
    ...(step.startedAt === undefined ? {} : { startedAt: toTimestamp(step.startedAt) }),
    ...(step.endedAt === undefined ? {} : { endedAt: toTimestamp(step.endedAt) }),
    ...(step.handOffAt === undefined ? {} : { handOffAt: toTimestamp(step.handOffAt) }),
    ...(step.lease === undefined
      ? {}
      : { lease: { ...step.lease, expiresAt: toTimestamp(step.lease.expiresAt) } }),
  };
}

function timestampsToIso(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate().toISOString();
  if (Array.isArray(value)) return value.map(timestampsToIso);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) out[key] = timestampsToIso(field);
  return out;
}
