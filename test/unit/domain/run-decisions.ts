/**
 * Helpers for the decision tests: a run made by the real createRun decision,
 * and a tiny in-memory "store" that applies decisions one after another the
 * way an adapter's transaction does.
 */
import assert from 'node:assert/strict';
import {
  RecdeployError,
  decideClaimStep,
  decideCompleteStep,
  decideCreateRun,
  decideServingChange,
  type CompleteStepRequest,
  type RecordServingResult,
  type RunDecision,
  type RunDocument,
  type RunIdentity,
  type RunPatch,
  type StepName,
} from '@recdeploy/shared';
import { T0, at, sampleIdentity } from '../../fixtures/runs.js';

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

/** What walk() needs besides the run. */
export interface WalkOptions {
  /** Who claims and completes each step. @defaultValue 'w' */
  readonly owner?: string;
  /** The first claim happens at T0 + startMs; each later write 10 ms after the last. */
  readonly startMs?: number;
  readonly patches?: Partial<Record<StepName, RunPatch>>;
}

/**
 * Claims and completes `steps` in order with the real decisions (as a step
 * handler would), so the run reaches its status the way a store's run does.
 */
export function walk(
  doc: RunDocument,
  steps: readonly StepName[],
  options: WalkOptions = {},
): RunDocument {
  const owner = options.owner ?? 'w';
  let t = options.startMs ?? 10;
  const cell = new DocumentCell(doc);
  for (const step of steps) {
    const claim = cell.apply((d) =>
      decideClaimStep(d, { runId: d.runId, step, owner, leaseMs: 60_000 }, { now: at(t) }),
    );
    assert.equal(claim.kind, 'claimed', `claim ${step}`);
    t += 10;
    const patch = options.patches?.[step];
    const complete = { runId: doc.runId, step, owner, ...(patch === undefined ? {} : { patch }) };
    if (step === 'verify') {
      // A run goes live only with what serves: its revision at 100%.
      const now = at(t);
      cell.apply((d) => goLive(d, complete, now));
    } else {
      cell.apply((d) => decideCompleteStep(d, complete, { now: at(t) }));
    }
    t += 10;
  }
  return cell.doc;
}

/**
 * Verify's completion the only way a store allows it: with the platform
 * observing the run's revision serving 100% (recordServing's decision).
 */
function goLive(
  doc: RunDocument,
  given: CompleteStepRequest,
  now: Date,
): RunDecision<RecordServingResult> {
  let complete = given;
  const deployed = complete.patch?.serving ?? doc.serving;
  // A walk without a deploy patch deploys a stand-in revision.
  const serving =
    deployed?.revision !== undefined
      ? { ...deployed, revision: deployed.revision }
      : {
          runtime: 'ann-serving',
          service: `rec-${doc.modelEndpointId}`,
          revision: `${doc.runId}-r`,
        };
  if (deployed?.revision === undefined) {
    complete = { ...complete, patch: { ...complete.patch, serving } };
  }
  const decision = decideServingChange(
    undefined,
    [doc],
    {
      service: serving.service,
      modelEndpointId: doc.modelEndpointId,
      observed: {
        serviceUrl: 'http://127.0.0.1:1',
        liveRevision: serving.revision,
        targets: [{ revision: serving.revision, percent: 100 }],
      },
      cause: 'walk',
      complete,
    },
    { now },
  );
  const write = decision.runWrites.find((run) => run.runId === doc.runId);
  return { ...(write === undefined ? {} : { write }), result: decision.result };
}

/** Claims `step` for `owner` at `now` (the step must be claimable). */
export function claimed(
  doc: RunDocument,
  step: StepName,
  owner: string,
  now: Date,
  leaseMs = 60_000,
): RunDocument {
  const decision = decideClaimStep(doc, { runId: doc.runId, step, owner, leaseMs }, { now });
  assert.equal(decision.result.kind, 'claimed', `claim ${step}`);
  return must(decision.write, 'claimed run');
}

/** The RecdeployError `fn` throws (fails the test when it throws nothing else). */
export function errorOf(fn: () => unknown): RecdeployError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RecdeployError, String(error));
    return error;
  }
  assert.fail('expected an error');
}
