/**
 * Verify's end when the rollout plan is a canary: the verified revision gets
 * its first step's share beside the stable revision, and the run becomes
 * `canary` (the stable run stays live). The decision is saved before the
 * traffic moves, so an attempt that takes over after a crash makes the same
 * split, not a second one; the ticks (advance-canary.ts) do the rest.
 */
import { TransientError } from '../errors.js';
import { startCanary, stepLabel, trafficMoved } from '../domain/canary-machine.js';
import type { CanaryPlan } from '../domain/rollout-plan.js';
import type { RunDocument, ServingRef, Verification } from '../domain/run-document.js';
import type { ServiceTraffic } from '../ports/serving-platform.port.js';
import { showsSplit, type CanaryDeps } from './advance-canary.js';
import type { StepAttempt } from './step-attempt.js';

type StartDeps = Pick<CanaryDeps, 'config' | 'logger' | 'runStore' | 'platform'>;

/**
 * The revision a canary is judged against: the one serving all the traffic,
 * or, when an earlier attempt of this run already split it, the largest
 * other share. Undefined when nothing else serves (a first deployment).
 */
export function stableRevisionOf(
  run: RunDocument,
  revision: string,
  traffic: ServiceTraffic | undefined,
): string | undefined {
  if (run.canary?.revision === revision) return run.canary.stableRevision;
  if (traffic === undefined) return undefined;
  if (traffic.liveRevision !== undefined) {
    return traffic.liveRevision === revision ? undefined : traffic.liveRevision;
  }
  const others = traffic.targets
    .filter((target) => target.revision !== revision && target.percent > 0)
    .sort((a, b) => b.percent - a.percent);
  return others[0]?.revision;
}

export async function startCanaryRollout(
  deps: StartDeps,
  attempt: StepAttempt,
  serving: ServingRef & { revision: string },
  verification: Verification,
  plan: CanaryPlan,
  stableRevision: string,
): Promise<RunDocument> {
  const run = attempt.run;
  const stableRunId = (
    await deps.runStore.listRuns({ modelEndpointId: run.modelEndpointId, limit: 500 })
  ).find(
    (other) =>
      other.serving?.service === serving.service && other.serving.revision === stableRevision,
  )?.runId;
  const saved = run.canary?.revision === serving.revision ? run.canary : undefined;
  const state =
    saved ??
    startCanary(
      plan,
      {
        revision: serving.revision,
        stableRevision,
        ...(stableRunId === undefined ? {} : { stableRunId }),
      },
      new Date(),
    );
  // The decision first: an attempt that takes over finds it and makes the same split.
  await deps.runStore.renewStepLease({
    runId: run.runId,
    step: attempt.step,
    owner: attempt.owner,
    leaseMs: deps.config.leases.ttlMs,
    patch: { verification, canary: state },
  });
  const percent = plan.steps[0] ?? 100;
  const before = await deps.platform.describe(serving.service);
  if (before === undefined || !showsSplit(before, state, percent)) {
    await deps.platform.splitTraffic(serving.service, [
      { revision: serving.revision, percent },
      { revision: stableRevision, percent: 100 - percent },
    ]);
  }
  const observed = await deps.platform.describe(serving.service);
  if (observed === undefined) {
    throw new TransientError('PLATFORM.CONFLICT', `service ${serving.service} vanished`);
  }
  const holding = trafficMoved(state, new Date());
  const { changedRuns } = await deps.runStore.recordServing({
    service: serving.service,
    modelEndpointId: run.modelEndpointId,
    observed,
    cause: `run ${run.runId} verified; canary at ${stepLabel(holding)}`,
    eventId: attempt.eventId,
    startsCanary: true,
    complete: {
      runId: run.runId,
      step: attempt.step,
      owner: attempt.owner,
      eventId: attempt.eventId,
      patch: {
        verification,
        serving: { ...serving, url: observed.serviceUrl },
        canary: holding,
      },
    },
  });
  deps.logger.info('verified; canary started', {
    revision: serving.revision,
    stable: stableRevision,
    percent,
  });
  const stored =
    changedRuns.find((changed) => changed.runId === run.runId) ??
    (await deps.runStore.getRun(run.runId));
  if (stored === undefined) throw new Error(`run ${run.runId} vanished`);
  return stored;
}

/**
 * Another run's canary on the same service: this run's verification waits
 * (a TransientError, so its delivery comes back) until that canary is
 * promoted or aborted, because two rollouts cannot share one traffic split.
 */
export async function assertNoOtherCanary(
  deps: Pick<StartDeps, 'runStore'>,
  run: RunDocument,
  service: string,
): Promise<void> {
  const other = (
    await deps.runStore.listRuns({ status: 'canary', modelEndpointId: run.modelEndpointId })
  ).find((candidate) => candidate.runId !== run.runId && candidate.serving?.service === service);
  if (other?.canary === undefined) return;
  throw new TransientError(
    'RUN.CANARY_IN_PROGRESS',
    `service ${service} runs the canary of run ${other.runId} (${stepLabel(other.canary)}); this run's verification waits until it is promoted or aborted (recdeploy promote|abort ${other.runId})`,
    { metadata: { runId: run.runId, canaryRunId: other.runId } },
  );
}
