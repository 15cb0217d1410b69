import { PermanentError, truncateText } from '../errors.js';
import type {
  HistoryEntry,
  RunDocument,
  RunPatch,
  RunStatus,
  StepName,
  StepState,
} from './run-document.js';
import {
  RUN_LIMITS,
  assertDocumentSize,
  boundHistory,
  boundVerification,
} from './run-document-bounds.js';
import { isTerminal } from './run-state-machine.js';

/**
 * Small pure edits of a run document that the command decisions compose.
 * Each returns a new document; none of them writes anything.
 */

/** When and why a write happens, resolved (the clock already read). */
export interface EditContext {
  readonly now: Date;
  readonly eventId?: string;
}

/** PermanentError 'RUN.NOT_FOUND' unless the run exists. */
export function requireRun(current: RunDocument | undefined, runId: string): RunDocument {
  if (current === undefined) {
    throw new PermanentError('RUN.NOT_FOUND', `run ${runId} does not exist`, {
      metadata: { runId },
    });
  }
  return current;
}

/** Appends a history entry (bounded) and stamps updatedAt. */
export function appendHistory(
  doc: RunDocument,
  entry: { from: RunStatus | null; to: RunStatus; reason?: string },
  context: EditContext,
): RunDocument {
  const at = context.now.toISOString();
  const full: HistoryEntry = {
    at,
    from: entry.from,
    to: entry.to,
    ...(context.eventId === undefined
      ? {}
      : { eventId: truncateText(context.eventId, RUN_LIMITS.historyEventIdChars) }),
    ...(entry.reason === undefined
      ? {}
      : { reason: truncateText(entry.reason, RUN_LIMITS.historyReasonChars) }),
  };
  return { ...doc, history: boundHistory([...doc.history, full]), updatedAt: at };
}

/**
 * Moves the run to `to` and records it. A terminal status keeps `reason` as
 * the run's statusReason, which is what a dashboard shows for it.
 */
export function moveTo(
  doc: RunDocument,
  to: RunStatus,
  context: EditContext,
  reason?: string,
): RunDocument {
  const moved: RunDocument = { ...doc, status: to };
  const withReason =
    isTerminal(to) && reason !== undefined
      ? { ...moved, statusReason: truncateText(reason, RUN_LIMITS.statusReasonChars) }
      : moved;
  return appendHistory(
    withReason,
    { from: doc.status, to, ...(reason === undefined ? {} : { reason }) },
    context,
  );
}

/** Replaces one step's state and stamps updatedAt. */
export function setStep(
  doc: RunDocument,
  step: StepName,
  state: StepState,
  context: EditContext,
): RunDocument {
  return {
    ...doc,
    steps: { ...doc.steps, [step]: state },
    updatedAt: context.now.toISOString(),
  };
}

/** Applies what a step reports when it finishes; each given part replaces the old one whole. */
export function applyPatch(doc: RunDocument, patch: RunPatch | undefined): RunDocument {
  if (patch === undefined) return doc;
  return {
    ...doc,
    ...(patch.registry === undefined ? {} : { registry: patch.registry }),
    ...(patch.serving === undefined ? {} : { serving: patch.serving }),
    ...(patch.verification === undefined
      ? {}
      : { verification: boundVerification(patch.verification) }),
    ...(patch.canary === undefined ? {} : { canary: patch.canary }),
  };
}

/**
 * The last edit before a document is written: removes `undefined` fields
 * (Firestore refuses them, and a stored-then-read document must equal the one
 * returned) and enforces the size bound.
 */
export function finishDocument(doc: RunDocument): RunDocument {
  const clean = dropUndefined(doc);
  assertDocumentSize(clean);
  return clean;
}

/** A deep copy of plain data without `undefined` object fields. */
export function dropUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => dropUndefined(item)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== undefined) out[key] = dropUndefined(field);
  }
  return out as T;
}

/** The ISO time `ms` milliseconds after `now`. */
export function isoAfter(now: Date, ms: number): string {
  return new Date(now.getTime() + ms).toISOString();
}

/** A lease is valid while now is before its expiry. */
export function isExpired(expiresAt: string, now: Date): boolean {
  return Date.parse(expiresAt) <= now.getTime();
}

/** The document without the given optional fields (e.g. a statusReason that no longer holds). */
export function withoutFields<K extends keyof RunDocument>(
  doc: RunDocument,
  ...keys: readonly K[]
): RunDocument {
  const copy: Partial<RunDocument> = { ...doc };
  for (const key of keys) delete copy[key];
  return copy as RunDocument;
}
