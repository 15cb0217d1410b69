/**
 * An operator's rollback of a serving service: traffic goes back to an
 * earlier revision, the run that was live is recorded as `rolled_back`, and
 * deployment-finished tells other systems. The run documents say which
 * revision belongs to which run; the platform says what serves right now.
 */
import { PermanentError, TransientError } from '../errors.js';
import type { RunDocument } from '../domain/run-document.js';
import { compareRunRecency } from '../domain/run-supersession.js';
import type { ServiceTraffic } from '../ports/serving-platform.port.js';
import type { ChainDeps } from './chain-deps.js';
import { publishDeploymentFinished } from './chain-events.js';
import { markServingRun, type AliasDeps } from './serving-alias.js';

export type RollbackDeps = Pick<
  ChainDeps,
  'runStore' | 'platform' | 'eventBus' | 'config' | 'logger'
> &
  AliasDeps;

export interface RollbackRequest {
  /** The serving service, e.g. `rec-home` (`{SERVICE_PREFIX}{model_endpoint_id}`). */
  readonly service: string;
  /**
   * The revision to send all traffic to. Default: the platform's previous
   * revision when its run is still live (or unknown to the store), else the
   * revision of the service's previous live run.
   */
  readonly toRevision?: string;
}

/**
 * How the target was chosen: asked for; the platform's previous revision; the
 * previous live run's revision; or the revision already serving (an earlier
 * rollback moved the traffic but stopped before recording it).
 */
export type RollbackTargetSource =
  'requested' | 'platform_previous' | 'previous_live_run' | 'already_serving';

export interface RollbackResult {
  readonly service: string;
  /** The run that was live: now `rolled_back` (or `replaced`, when the target is newer). */
  readonly rolledBack: RunDocument;
  readonly fromRevision: string;
  readonly toRevision: string;
  readonly targetSource: RollbackTargetSource;
  /** The run whose revision serves now (live again), when the store knows it. */
  readonly targetRun?: RunDocument;
  /** The service's traffic afterwards, as the platform reports it. */
  readonly traffic: ServiceTraffic;
}

/** How long the rollback holds the service against a deployment starting meanwhile. */
export const ROLLBACK_LEASE_MS = 5 * 60_000;

/** Runs a plain rollback (no `--to`) goes back to: they served until a newer run took over. */
const ROLLBACK_TARGETS: readonly RunDocument['status'][] = ['live', 'replaced'];

/** Statuses whose revision has passed verification and may take traffic again. */
const SERVED_STATUSES: readonly RunDocument['status'][] = ['live', 'rolled_back', 'replaced'];

/**
 * Rolls `service` back. The current run is the newest live run (by run
 * recency) serving the service.
 * @throws PermanentError `PLATFORM.NOT_FOUND` (no such service, or nothing to
 *   roll back to), `RUN.NOT_FOUND` (no live run serves it),
 *   `PLATFORM.REJECTED` (the requested revision cannot take traffic),
 *   `RUN.CANARY_IN_PROGRESS` (a canary runs on the service: abort it instead);
 *   TransientError `RUN.STEP_BUSY` while a deployment holds the service.
 */
export async function rollbackService(
  deps: RollbackDeps,
  request: RollbackRequest,
): Promise<RollbackResult> {
  const { service } = request;
  const traffic = await deps.platform.describe(service);
  if (traffic === undefined) {
    throw new PermanentError(
      'PLATFORM.NOT_FOUND',
      `service ${service} does not exist on the serving platform${await knownServices(deps)}`,
      { metadata: { service } },
    );
  }
  const record = await deps.runStore.getServingRecord(service);
  const liveRuns = (await deps.runStore.listRuns({ status: 'live', limit: 500 }))
    .filter((run) => run.serving?.service === service && run.serving.revision !== undefined)
    .sort((a, b) => compareRunRecency(b, a));
  const current =
    liveRuns.find((run) => run.runId === record?.liveRunId) ??
    liveRuns.find((run) => run.serving?.revision === traffic.liveRevision) ??
    liveRuns[0];
  const fromRevision = current?.serving?.revision;
  if (current === undefined || fromRevision === undefined) {
    throw new PermanentError(
      'RUN.NOT_FOUND',
      `no live run serves service ${service} (the platform's live revision: ${traffic.liveRevision ?? 'none'})${await knownServices(deps)}`,
      { metadata: { service } },
    );
  }
  const endpointRuns = (
    await deps.runStore.listRuns({ modelEndpointId: current.modelEndpointId, limit: 500 })
  ).filter((run) => run.serving?.service === service);
  const canary = endpointRuns.find((run) => run.status === 'canary');
  if (canary !== undefined) {
    // A rollback would move traffic under the canary's feet: its ticks would split it again.
    throw new PermanentError(
      'RUN.CANARY_IN_PROGRESS',
      `service ${service} runs the canary of run ${canary.runId}: abort it first (recdeploy abort ${canary.runId}), which puts all traffic back on revision ${canary.canary?.stableRevision ?? fromRevision}`,
      { metadata: { service, runId: canary.runId } },
    );
  }
  const target = chooseTarget(request, {
    traffic,
    current,
    fromRevision,
    endpointRuns,
  });

  const lease = await deps.runStore.acquireServiceLease({
    service,
    runId: current.runId,
    ttlMs: ROLLBACK_LEASE_MS,
  });
  if (!lease.acquired) {
    throw new TransientError(
      'RUN.STEP_BUSY',
      `service ${service} is held by run ${lease.holder} until ${lease.expiresAt} (a deployment is in progress); try again once it has finished`,
      { metadata: { service, holder: lease.holder } },
    );
  }
  try {
    const moved =
      traffic.liveRevision === target.revision
        ? traffic
        : await deps.platform.rollback(service, target.revision);
    // What serves is what the platform reports now, not what was asked for.
    const observed = (await deps.platform.describe(service)) ?? moved;
    const { changedRuns } = await deps.runStore.recordServing({
      service,
      modelEndpointId: current.modelEndpointId,
      observed,
      cause: `rolled back by an operator to revision ${target.revision}`,
    });
    const rolledBack =
      changedRuns.find((run) => run.runId === current.runId) ??
      (await deps.runStore.getRun(current.runId)) ??
      current;
    const targetRun =
      changedRuns.find((run) => run.serving?.revision === target.revision) ?? target.run;
    for (const run of changedRuns) await publishDeploymentFinished(deps, run);
    if (targetRun?.status === 'live') await markServingRun(deps, targetRun);
    deps.logger.info('service rolled back', {
      service,
      fromRevision,
      toRevision: target.revision,
      runId: rolledBack.runId,
      targetSource: target.source,
    });
    return {
      service,
      rolledBack,
      fromRevision,
      toRevision: target.revision,
      targetSource: target.source,
      ...(targetRun === undefined ? {} : { targetRun }),
      traffic: observed,
    };
  } finally {
    await deps.runStore.releaseServiceLease(service, current.runId);
  }
}

interface TargetContext {
  readonly traffic: ServiceTraffic;
  readonly current: RunDocument;
  readonly fromRevision: string;
  /** Every run of the endpoint on the service. */
  readonly endpointRuns: readonly RunDocument[];
}

interface Target {
  readonly revision: string;
  readonly source: RollbackTargetSource;
  readonly run?: RunDocument;
}

function chooseTarget(request: RollbackRequest, context: TargetContext): Target {
  const { traffic, current, fromRevision, endpointRuns } = context;
  const service = request.service;
  const runOf = (revision: string) =>
    endpointRuns.find((run) => run.serving?.revision === revision);
  const target = (revision: string, source: RollbackTargetSource): Target => {
    const run = runOf(revision);
    return run === undefined ? { revision, source } : { revision, source, run };
  };

  if (request.toRevision !== undefined) {
    const revision = request.toRevision;
    if (revision === fromRevision) {
      throw new PermanentError(
        'PLATFORM.REJECTED',
        `revision ${revision} is the one being rolled back (run ${current.runId}); name an earlier revision`,
        { metadata: { service, revision } },
      );
    }
    const run = runOf(revision);
    if (run !== undefined && !SERVED_STATUSES.includes(run.status)) {
      throw new PermanentError(
        'PLATFORM.REJECTED',
        `revision ${revision} belongs to run ${run.runId}, which is ${run.status}: it never passed verification, so it cannot take traffic by a rollback`,
        { metadata: { service, revision, runId: run.runId } },
      );
    }
    return target(revision, 'requested');
  }
  // Traffic already left the current run's revision: finish recording that rollback.
  if (traffic.liveRevision !== undefined && traffic.liveRevision !== fromRevision) {
    return target(traffic.liveRevision, 'already_serving');
  }
  const previous = traffic.previousRevision;
  const previousRun = previous === undefined ? undefined : runOf(previous);
  // A run that a newer one replaced served until then: the natural target. A
  // rolled-back run was taken off on purpose: only `--to` brings it back.
  if (
    previous !== undefined &&
    previous !== fromRevision &&
    (previousRun === undefined || ROLLBACK_TARGETS.includes(previousRun.status))
  ) {
    return target(previous, 'platform_previous');
  }
  const earlier = endpointRuns
    .filter(
      (run) =>
        ROLLBACK_TARGETS.includes(run.status) &&
        run.serving?.revision !== undefined &&
        run.serving.revision !== fromRevision &&
        compareRunRecency(run, current) < 0,
    )
    .sort((a, b) => compareRunRecency(b, a))[0];
  const earlierRevision = earlier?.serving?.revision;
  if (earlierRevision !== undefined) return target(earlierRevision, 'previous_live_run');

  const why =
    previousRun !== undefined
      ? `the platform's previous revision ${previous} belongs to run ${previousRun.runId}, which is ${previousRun.status}, and no earlier run was replaced by a newer one`
      : `run ${current.runId} (revision ${fromRevision}) replaced no earlier run and the platform remembers no previous revision`;
  throw new PermanentError(
    'PLATFORM.NOT_FOUND',
    `service ${service} has nothing to roll back to: ${why}; name a revision explicitly to roll back to it`,
    { metadata: { service } },
  );
}

/** "(services with a live run: a, b)", or nothing when there are none. */
async function knownServices(deps: RollbackDeps): Promise<string> {
  const records = await deps.runStore.listServingRecords();
  const names = records.filter((r) => r.liveRunId !== undefined).map((r) => r.service);
  return names.length === 0
    ? ' (no run is live on any service)'
    : ` (services with a live run: ${names.join(', ')})`;
}
