/**
 * The store's decisions about a canary (the stores apply them in a
 * transaction): a compare-and-set of the canary state on `seq`, so of two
 * ticks that read the same state only the first writes; the other is told
 * and stops, and its next tick reads what the first decided.
 */
import { PermanentError } from '../errors.js';
import type { CanaryState } from './canary-state.js';
import type { RunDocument } from './run-document.js';
import { finishDocument, moveTo, requireRun, type EditContext } from './run-document-edits.js';
import type { RunDecision } from './run-commands.js';
import type {
  FinishCanaryRequest,
  UpdateCanaryRequest,
  UpdateCanaryResult,
} from './run-store-types.js';

/** Writes the next canary state when the stored one is still at `expectSeq`. */
export function decideUpdateCanary(
  current: RunDocument | undefined,
  request: UpdateCanaryRequest,
  context: EditContext,
): RunDecision<UpdateCanaryResult> {
  const run = requireRun(current, request.runId);
  if (run.status !== 'canary' || run.canary?.seq !== request.expectSeq) {
    return { result: { updated: false, run } };
  }
  assertSameCanary(run, request.canary);
  let next: RunDocument = {
    ...run,
    canary: request.canary,
    updatedAt: context.now.toISOString(),
  };
  if (request.endAs !== undefined) {
    next = moveTo(next, request.endAs.status, context, request.endAs.reason);
  }
  next = finishDocument(next);
  return { write: next, result: { updated: true, run: next } };
}

/**
 * The canary run goes live with its final canary state, inside the
 * serving-record transaction that also demotes the run it replaces. Answers
 * undefined (no write) when it already went live or the canary moved on.
 */
export function decideFinishCanary(
  current: RunDocument | undefined,
  request: FinishCanaryRequest,
  context: EditContext,
): RunDocument | undefined {
  const run = requireRun(current, request.runId);
  if (run.status !== 'canary' || run.canary?.seq !== request.expectSeq) return undefined;
  assertSameCanary(run, request.canary);
  return moveTo(
    { ...run, canary: request.canary, updatedAt: context.now.toISOString() },
    'live',
    context,
    request.canary.outcome?.reason ?? 'canary promoted',
  );
}

function assertSameCanary(run: RunDocument, canary: CanaryState): void {
  if (run.canary !== undefined && run.canary.revision !== canary.revision) {
    throw new PermanentError(
      'RUN.ILLEGAL_TRANSITION',
      `run ${run.runId}: a canary of revision ${canary.revision} cannot replace the canary of ${run.canary.revision}`,
    );
  }
  if (canary.seq <= (run.canary?.seq ?? 0)) {
    throw new PermanentError(
      'RUN.ILLEGAL_TRANSITION',
      `run ${run.runId}: a canary write must move seq forward (stored ${run.canary?.seq ?? 0}, written ${canary.seq})`,
    );
  }
}
