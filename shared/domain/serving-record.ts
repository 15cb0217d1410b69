/**
 * The serving record (DESIGN.md §4 "Convergence and truth"): one per serving
 * service, holding what the platform *observes* serves (Cloud Run's
 * trafficStatuses, the local routers' state), never what was asked for.
 * Every view (CLI, dashboard, restart banner, deployment-finished) reads it,
 * and run statuses are moved to agree with it in the same transaction, so at
 * most one run per service is `live`:
 * - the run whose revision serves is live (a rolled_back or replaced run whose
 *   revision serves again becomes live again);
 * - a live run whose revision lost the traffic becomes `replaced` when the
 *   serving run is newer (with `replacedBy`), else `rolled_back`.
 */
import { TransientError } from '../errors.js';
import { compareRunRecency } from './run-supersession.js';
import type { RunDocument } from './run-document.js';
import {
  dropUndefined,
  finishDocument,
  moveTo,
  withoutFields,
  type EditContext,
} from './run-document-edits.js';
import { decideCompleteStep } from './step-commands.js';
import { decideFinishCanary } from './canary-commands.js';
import type {
  RecordServingRequest,
  ServingDecision,
  ServingRecord,
  ServingShare,
} from './serving-record-types.js';
import { sameServing, servingOwner, sharesOf } from './serving-shares.js';

export type * from './serving-record-types.js';
export { sameServing, trafficPercent } from './serving-shares.js';

/**
 * Decides the serving record and the run moves for one observation. `runs`
 * are the runs of the model endpoint (only those deployed to `service` count).
 * Writes nothing when the observation changes nothing but the time.
 */
export function decideServingChange(
  current: ServingRecord | undefined,
  runs: readonly RunDocument[],
  request: RecordServingRequest,
  context: EditContext,
): ServingDecision {
  const docs = new Map(runs.map((run) => [run.runId, run]));
  const changed = new Map<string, RunDocument>();
  const put = (run: RunDocument): void => {
    docs.set(run.runId, run);
    changed.set(run.runId, run);
  };
  if (request.complete !== undefined) {
    const done = decideCompleteStep(docs.get(request.complete.runId), request.complete, context, {
      recordsServing: true,
      ...(request.startsCanary === true ? { doneAs: 'canary' as const } : {}),
    });
    if (done.write) put(done.write);
  }
  if (request.finishCanary !== undefined) {
    const live = decideFinishCanary(
      docs.get(request.finishCanary.runId),
      request.finishCanary,
      context,
    );
    if (live !== undefined) put(live);
  }
  const onService = [...docs.values()].filter((run) => run.serving?.service === request.service);
  const runOf = (revision: string) => onService.find((run) => run.serving?.revision === revision);
  const traffic = sharesOf(request.observed, runOf);
  const { serving, owner } = servingOwner(request, traffic, runOf);
  if (request.complete !== undefined && request.startsCanary === true) {
    const canary = docs.get(request.complete.runId)?.serving?.revision;
    if (canary === undefined || !traffic.some((share) => share.revision === canary)) {
      throw new TransientError(
        'PLATFORM.CONFLICT',
        `run ${request.complete.runId} started a canary but the platform reports no share for revision ${canary ?? '(none)'} on ${request.service}; not recorded yet`,
        { metadata: { runId: request.complete.runId, service: request.service } },
      );
    }
  } else if (request.complete !== undefined && owner?.runId !== request.complete.runId) {
    // Going live means serving: until the platform reports the promoted
    // revision serving, the run stays where it is and the step is retried.
    throw new TransientError(
      'PLATFORM.CONFLICT',
      `run ${request.complete.runId} was promoted but the platform reports ${serving === undefined ? 'no revision' : `revision ${serving}`} serving ${request.service}; not recorded live yet`,
      { metadata: { runId: request.complete.runId, service: request.service } },
    );
  }
  if (request.finishCanary !== undefined && owner?.runId !== request.finishCanary.runId) {
    throw new TransientError(
      'PLATFORM.CONFLICT',
      `the canary of run ${request.finishCanary.runId} was promoted but the platform reports ${serving === undefined ? 'no revision' : `revision ${serving}`} serving ${request.service}; not recorded live yet`,
      { metadata: { runId: request.finishCanary.runId, service: request.service } },
    );
  }

  if (
    request.complete === undefined &&
    owner !== undefined &&
    BEING_VERIFIED.includes(owner.status)
  ) {
    // Verify has moved the traffic and not recorded it yet: its own
    // transaction moves both runs at once. Recording half of it now (the old
    // run demoted, the new one not yet live) would leave no live run; if
    // verify died here, its redelivery or the reconciler's re-drive of it
    // finishes the job.
    const unchanged = current ?? recordOf(request, traffic, serving, owner, undefined, context);
    return { runWrites: [], result: { record: unchanged, changedRuns: [] } };
  }

  if (serving !== undefined) {
    for (const run of onService) {
      if (run.status !== 'live' || run.runId === owner?.runId) continue;
      put(demote(run, serving, owner, request.cause, context));
    }
    if (owner !== undefined && (owner.status === 'rolled_back' || owner.status === 'replaced')) {
      put(serveAgain(owner, request.cause, context));
    }
  }

  const record = recordOf(request, traffic, serving, owner, current, context);
  const recordChanged = current === undefined || !sameServing(current, record);
  const stored = recordChanged ? record : current;
  const runWrites = [...changed.values()].map(finishDocument);
  return {
    ...(recordChanged ? { record } : {}),
    runWrites,
    result: { record: stored, changedRuns: runWrites },
  };
}

/**
 * Statuses of a run whose revision may serve before verify (or the canary's
 * promotion) has recorded it live.
 */
const BEING_VERIFIED: readonly RunDocument['status'][] = ['deployed', 'verifying', 'canary'];

/** The record for this observation: `since` and `previous` move only when the live revision does. */
function recordOf(
  request: RecordServingRequest,
  traffic: readonly ServingShare[],
  serving: string | undefined,
  owner: RunDocument | undefined,
  current: ServingRecord | undefined,
  context: EditContext,
): ServingRecord {
  const at = context.now.toISOString();
  const moved = current?.liveRevision !== serving;
  const previous =
    moved && current?.liveRevision !== undefined
      ? {
          revision: current.liveRevision,
          ...(current.liveRunId === undefined ? {} : { runId: current.liveRunId }),
          until: at,
        }
      : current?.previous;
  return dropUndefined({
    service: request.service,
    modelEndpointId: request.modelEndpointId,
    serviceUrl: request.observed.serviceUrl,
    liveRevision: serving,
    liveRunId: owner?.runId,
    traffic,
    since: moved ? (serving === undefined ? undefined : at) : current?.since,
    previous,
    cause: request.cause,
    observedAt: at,
  });
}

function demote(
  run: RunDocument,
  serving: string,
  owner: RunDocument | undefined,
  cause: string,
  context: EditContext,
): RunDocument {
  if (owner !== undefined && compareRunRecency(owner, run) > 0) {
    const reason = `replaced by run ${owner.runId}: its revision ${serving} took the traffic (${cause})`;
    return { ...moveTo(run, 'replaced', context, reason), replacedBy: owner.runId };
  }
  const whose =
    owner === undefined ? 'which no run of this endpoint deployed' : `of run ${owner.runId}`;
  return moveTo(
    run,
    'rolled_back',
    context,
    `${cause}: traffic moved to revision ${serving} ${whose}`,
  );
}

function serveAgain(run: RunDocument, cause: string, context: EditContext): RunDocument {
  return moveTo(
    withoutFields(run, 'statusReason', 'replacedBy'),
    'live',
    context,
    `serving again: ${cause}`,
  );
}

/**
 * Which runs a serving change must see: the endpoint's live runs (to demote),
 * the runs that deployed an observed revision (to find the owner), and the
 * run whose verify step completes with it.
 */
export function servingLookup(request: RecordServingRequest): {
  readonly revisions: readonly string[];
  readonly runIds: readonly string[];
} {
  const revisions = new Set(request.observed.targets.map((target) => target.revision));
  if (request.observed.liveRevision !== undefined) revisions.add(request.observed.liveRevision);
  const runIds = [request.complete?.runId, request.finishCanary?.runId].filter(
    (runId): runId is string => runId !== undefined,
  );
  return { revisions: [...revisions], runIds };
}
