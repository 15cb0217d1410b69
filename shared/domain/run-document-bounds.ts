import { PermanentError, truncateText } from '../errors.js';
import type { HistoryEntry, RunDocument, StepError, Verification } from './run-document.js';

/**
 * Limits that keep a run document well under Firestore's 1 MiB document limit
 * (reference/gcp-facts.md §E) whichever store holds it, so a document SQLite
 * accepts is one Firestore accepts too.
 */
export const RUN_LIMITS = {
  /** History entries kept: the first (creation) plus the newest 49. */
  historyEntries: 50,
  historyReasonChars: 500,
  historyEventIdChars: 200,
  statusReasonChars: 2_000,
  errorMessageChars: 2_000,
  errorCodeChars: 100,
  verificationChecks: 100,
  verificationDetailChars: 1_000,
  /** Hard stop, a quarter of Firestore's limit: far above any bounded document. */
  documentBytes: 256 * 1024,
} as const;

/**
 * Keeps the first history entry (when and by which event the run was received)
 * and the newest ones (what explains the current status). The entries in
 * between are repeated attempts of a step, the least useful to a reader, and
 * without a bound a message retried for days would grow the document without
 * end.
 */
export function boundHistory(history: readonly HistoryEntry[]): readonly HistoryEntry[] {
  const max = RUN_LIMITS.historyEntries;
  if (history.length <= max) return history;
  const first = history[0];
  const tail = history.slice(history.length - (max - 1));
  return first === undefined ? tail : [first, ...tail];
}

/** A step error with bounded code and message. */
export function boundStepError(error: StepError): StepError {
  return {
    code: truncateText(error.code, RUN_LIMITS.errorCodeChars),
    message: truncateText(error.message, RUN_LIMITS.errorMessageChars),
  };
}

/** Verification results with a bounded number of checks and bounded details. */
export function boundVerification(verification: Verification): Verification {
  const checks = verification.checks
    .slice(0, RUN_LIMITS.verificationChecks)
    .map((check) =>
      check.detail === undefined
        ? check
        : { ...check, detail: truncateText(check.detail, RUN_LIMITS.verificationDetailChars) },
    );
  return { ...verification, checks };
}

/**
 * Firestore's storage size of a value (firebase.google.com/docs/firestore/storage-size):
 * strings are UTF-8 bytes + 1, numbers and timestamps 8, booleans and null 1,
 * maps the sum of key and value sizes, arrays the sum of values. Timestamps
 * are still ISO strings here, which only overestimates.
 */
export function estimateStoredBytes(value: unknown): number {
  if (value === undefined) return 0;
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'number' || value instanceof Date) return 8;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8') + 1;
  if (Array.isArray(value))
    return value.reduce((sum: number, v) => sum + estimateStoredBytes(v), 0);
  if (typeof value === 'object') {
    let sum = 0;
    for (const [key, v] of Object.entries(value)) {
      if (v !== undefined) sum += Buffer.byteLength(key, 'utf8') + 1 + estimateStoredBytes(v);
    }
    return sum;
  }
  return 8;
}

/**
 * Throws PermanentError 'RUN.TOO_LARGE' when a document would exceed
 * RUN_LIMITS.documentBytes (the document name and Firestore's 32-byte
 * overhead included). Bounded fields never get there; unbounded input from an
 * event (thousands of metrics) can, and retrying would not help.
 */
export function assertDocumentSize(doc: RunDocument, collection = 'deployments'): void {
  const bytes =
    estimateStoredBytes(collection) +
    estimateStoredBytes(doc.runId) +
    32 +
    estimateStoredBytes(doc);
  if (bytes > RUN_LIMITS.documentBytes) {
    throw new PermanentError(
      'RUN.TOO_LARGE',
      `run document ${doc.runId} would be ${bytes} bytes (limit ${RUN_LIMITS.documentBytes})`,
      { metadata: { runId: doc.runId, bytes, limit: RUN_LIMITS.documentBytes } },
    );
  }
}
