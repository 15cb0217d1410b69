/**
 * Helpers for the decision tests: a run made by the real createRun decision,
 * and a tiny in-memory "store" that applies decisions one after another the
 * way an adapter's transaction does.
 */
import assert from 'node:assert/strict';
import {
  decideCreateRun,
  type RunDecision,
  type RunDocument,
  type RunIdentity,
} from '@recdeploy/shared';
import { T0, sampleIdentity } from '../../fixtures/runs.js';

/** A value a test needs to exist. */
export function must<T>(value: T | undefined, what = 'value'): T {
  assert.ok(value !== undefined, `expected a ${what}`);
  return value;
}

/** A fresh run in `received`, created at T0 by event 'evt-create'. */
export function newRun(overrides: Partial<RunIdentity> = {}): RunDocument {
  const decision = decideCreateRun(undefined, sampleIdentity(overrides), {
    now: T0,
    eventId: 'evt-create',
  });
  return must(decision.write, 'written run');
}

/** Holds one document and applies decisions to it like a store would. */
export class DocumentCell {
  constructor(public doc: RunDocument) {}

  apply<R>(decide: (current: RunDocument) => RunDecision<R>): R {
    const { write, result } = decide(this.doc);
    if (write) this.doc = write;
    return result;
  }
}
