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
import type { CompleteStepRequest, FinishCanaryRequest, WriteContext } from './run-store-types.js';

/** One revision's share of a service's traffic. */
export interface ServingShare {
  readonly revision: string;
  readonly percent: number;
  /** The run that deployed the revision, when the store knows it. */
  readonly runId?: string;
  readonly tag?: string;
}

export interface ServingRecord {
  readonly service: string;
  readonly modelEndpointId: string;
  readonly serviceUrl?: string;
  /** The revision with the traffic (all of it, or the largest share). */
  readonly liveRevision?: string;
  readonly liveRunId?: string;
  /** Every revision with a share above 0, largest first. */
  readonly traffic: readonly ServingShare[];
  /** When liveRevision was first observed serving. */
  readonly since?: string;
  /** The revision that served before liveRevision, and until when. */
  readonly previous?: {
    readonly revision: string;
    readonly runId?: string;
    readonly until: string;
  };
  /** What made the last change (a promote, a rollback, the reconciler's observation). */
  readonly cause: string;
  /** When the platform was last read for a change of this record. */
  readonly observedAt: string;
}

/** A service's traffic as the platform reports it (the ServingPlatform's ServiceTraffic fits). */
export interface ObservedTraffic {
  readonly serviceUrl: string;
  readonly liveRevision?: string;
  readonly targets: readonly {
    readonly revision: string;
    readonly percent: number;
    readonly tag?: string;
  }[];
}

export interface RecordServingRequest extends WriteContext {
  readonly service: string;
  readonly modelEndpointId: string;
  readonly observed: ObservedTraffic;
  /** Said in the record and in the history of every run it moves. */
  readonly cause: string;
  /** Verify's completion, committed in the same transaction (no moment with two live runs). */
  readonly complete?: CompleteStepRequest;
  /**
   * With `complete`: verification passed and the revision starts a canary at
   * its first step's share; the run becomes `canary`, the live run stays live.
   */
  readonly startsCanary?: boolean;
  /** A promoted canary: its run becomes live (and the one it replaces, replaced). */
  readonly finishCanary?: FinishCanaryRequest;
}

export interface RecordServingResult {
  readonly record: ServingRecord;
  /** Runs whose document changed, as stored. */
  readonly changedRuns: readonly RunDocument[];
}

export interface ServingDecision {
  readonly record?: ServingRecord;
  readonly runWrites: readonly RunDocument[];
  readonly result: RecordServingResult;
}

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

/**
 * The revision that serves, and its run: the one with all the traffic, or
 * else the largest share, except that while a canary runs the stable
 * revision serves (it stays the live run until the canary is promoted), even
 * when the canary's share is as large or larger.
 */
function servingOwner(
  request: RecordServingRequest,
  traffic: readonly ServingShare[],
  runOf: (revision: string) => RunDocument | undefined,
): { serving?: string; owner?: RunDocument } {
  const serving = request.observed.liveRevision ?? traffic[0]?.revision;
  const owner = serving === undefined ? undefined : runOf(serving);
  if (owner?.status !== 'canary' || request.finishCanary?.runId === owner.runId) {
    return { ...(serving === undefined ? {} : { serving }), ...(owner ? { owner } : {}) };
  }
  const stable = traffic.find((share) => runOf(share.revision)?.status === 'live');
  const stableRun = stable === undefined ? undefined : runOf(stable.revision);
  if (stable === undefined || stableRun === undefined) return { serving, owner };
  return { serving: stable.revision, owner: stableRun };
}

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

/** True when two records say the same about what serves (times and cause aside). */
export function sameServing(a: ServingRecord, b: ServingRecord): boolean {
  return (
    a.liveRevision === b.liveRevision &&
    a.liveRunId === b.liveRunId &&
    a.serviceUrl === b.serviceUrl &&
    a.traffic.length === b.traffic.length &&
    // Field by field: a store need not keep the key order of a map (Firestore does not).
    a.traffic.every((share, i) => {
      const other = b.traffic[i];
      return (
        other !== undefined &&
        share.revision === other.revision &&
        share.percent === other.percent &&
        share.runId === other.runId &&
        share.tag === other.tag
      );
    })
  );
}

/** The traffic share of `revision`, 0 when it has none. */
export function trafficPercent(record: ServingRecord | undefined, revision: string | undefined) {
  if (record === undefined || revision === undefined) return 0;
  return record.traffic.find((share) => share.revision === revision)?.percent ?? 0;
}

function sharesOf(
  observed: ObservedTraffic,
  runOf: (revision: string) => RunDocument | undefined,
): ServingShare[] {
  const percents = new Map<string, { percent: number; tag?: string }>();
  for (const target of observed.targets) {
    const seen = percents.get(target.revision);
    const percent = (seen?.percent ?? 0) + target.percent;
    const tag = seen?.tag ?? target.tag;
    percents.set(target.revision, tag === undefined ? { percent } : { percent, tag });
  }
  return [...percents.entries()]
    .filter(([, share]) => share.percent > 0)
    .sort((a, b) => b[1].percent - a[1].percent || (a[0] < b[0] ? -1 : 1))
    .map(([revision, share]) => {
      const runId = runOf(revision)?.runId;
      return {
        revision,
        percent: share.percent,
        ...(runId === undefined ? {} : { runId }),
        ...(share.tag === undefined ? {} : { tag: share.tag }),
      };
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
