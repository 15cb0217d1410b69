/**
 * A canary's tick (docs/architecture.md "Progressive delivery"): reads the
 * run's canary state, makes the platform show what the current phase asks
 * for (only when it does not already), judges a holding step on live
 * metrics, and writes the next state with a compare-and-set. Nothing sleeps:
 * the reconciler's tick (Cloud Scheduler each minute; the local stack every
 * CANARY_TICK_S) calls it for every run in `canary`, and an operator's
 * promote or abort calls it at once.
 */
import { judgeCanaryWindow } from '../domain/canary-analysis.js';
import {
  applyOperatorRequest,
  canaryEffect,
  canaryFinished,
  decideHold,
  metricsUnavailable,
  stepLabel,
  trafficMoved,
} from '../domain/canary-machine.js';
import type { CanaryState, WindowMetrics } from '../domain/canary-state.js';
import type { RunDocument } from '../domain/run-document.js';
import { failpoint } from '../failpoints.js';
import { toRecdeployError } from '../errors.js';
import type {
  RevisionMetricsReading,
  RevisionWindowMetrics,
} from '../ports/revision-metrics.port.js';
import type { ServiceTraffic } from '../ports/serving-platform.port.js';
import type { ChainDeps } from './chain-deps.js';
import { publishDeploymentFinished } from './chain-events.js';
import { markServingRun, type AliasDeps } from './serving-alias.js';

export type CanaryDeps = Pick<
  ChainDeps,
  'config' | 'logger' | 'runStore' | 'eventBus' | 'platform' | 'metrics'
> &
  AliasDeps;

/** Most state changes one call makes (a pass, the next split, a judgement: three). */
const MAX_MOVES = 6;

/**
 * Moves the run's canary as far as it can go now; answers the run as stored
 * afterwards. A run that is not in `canary` is left alone.
 */
export async function advanceCanary(
  deps: CanaryDeps,
  runId: string,
  clock: () => Date = () => new Date(),
): Promise<RunDocument | undefined> {
  let run = await deps.runStore.getRun(runId);
  for (let move = 0; move < MAX_MOVES; move += 1) {
    if (run?.status !== 'canary' || run.canary === undefined) return run;
    const next = await tick(deps, run, run.canary, clock());
    if (next === undefined) return run;
    if (next === WAITING) return deps.runStore.getRun(runId);
    run = next;
  }
  return run;
}

/** A judgement that only refreshed the step's numbers: the canary waits. */
const WAITING = Symbol('waiting');

/** One move; undefined when nothing moved (another tick wrote first, or nothing to do). */
async function tick(
  deps: CanaryDeps,
  run: RunDocument,
  state: CanaryState,
  now: Date,
): Promise<RunDocument | typeof WAITING | undefined> {
  const service = run.serving?.service;
  if (service === undefined) return undefined;
  const requested = applyOperatorRequest(state, now);
  if (requested !== state) return write(deps, run, state, requested);

  const effect = canaryEffect(state);
  const log = deps.logger.child({ runId: run.runId, service, revision: state.revision });
  switch (effect.kind) {
    case 'split': {
      await failpoint('canary.before-split');
      const observed = await ensureSplit(deps, service, state, effect.percent);
      await failpoint('canary.after-split');
      await record(deps, run, observed, `canary of run ${run.runId} at ${stepLabel(state)}`);
      log.info('canary step serving', { percent: effect.percent, step: state.stepIndex + 1 });
      return write(deps, run, state, trafficMoved(state, now));
    }
    case 'judge':
      return judge(deps, run, state, service, now);
    case 'promote':
      return promote(deps, run, state, service, now);
    case 'restore-stable':
      return restoreStable(deps, run, state, service, now);
    default:
      return undefined;
  }
}

async function judge(
  deps: CanaryDeps,
  run: RunDocument,
  state: CanaryState,
  service: string,
  now: Date,
): Promise<RunDocument | typeof WAITING | undefined> {
  const step = state.steps[state.stepIndex];
  const from = new Date(step?.trafficAt ?? state.updatedAt);
  let reading: RevisionMetricsReading;
  try {
    reading = await deps.metrics.read(service, [state.revision, state.stableRevision], {
      from,
      to: now,
    });
  } catch (error) {
    // Past the max hold an unreadable step is aborted; before it, the next tick reads again.
    const failure = toRecdeployError(error);
    const aborted = metricsUnavailable(state, `${failure.code}: ${failure.message}`, now);
    if (aborted === undefined) throw error;
    return write(deps, run, state, aborted);
  }
  const judgesAnswers = await answersComparable(deps, run, state);
  const [canary, stable] = [state.revision, state.stableRevision].map((revision) =>
    windowMetricsOf(
      reading.revisions.find((r) => r.revision === revision),
      judgesAnswers,
    ),
  ) as [WindowMetrics, WindowMetrics];
  const analysis = judgeCanaryWindow(state.plan, canary, stable, {
    from,
    through: reading.through,
  });
  const next = decideHold(state, analysis, now);
  const written = await write(deps, run, state, next);
  // A judgement that only refreshed the numbers is not a move: stop here.
  return next.phase === 'holding' && written !== undefined ? WAITING : written;
}

async function promote(
  deps: CanaryDeps,
  run: RunDocument,
  state: CanaryState,
  service: string,
  now: Date,
): Promise<RunDocument | undefined> {
  await failpoint('canary.before-promote');
  const before = await deps.platform.describe(service);
  const promoted =
    before?.liveRevision === state.revision
      ? before
      : await deps.platform.promote(service, state.revision);
  await failpoint('canary.after-promote');
  const observed = (await deps.platform.describe(service)) ?? promoted;
  const { changedRuns } = await deps.runStore.recordServing({
    service,
    modelEndpointId: run.modelEndpointId,
    observed,
    cause: `canary of run ${run.runId} promoted: ${state.outcome?.reason ?? 'every step passed'}`,
    finishCanary: { runId: run.runId, expectSeq: state.seq, canary: canaryFinished(state, now) },
  });
  const live = changedRuns.find((changed) => changed.runId === run.runId);
  if (live === undefined) return undefined;
  deps.logger.info('canary promoted: 100% of traffic', {
    runId: run.runId,
    revision: state.revision,
  });
  await markServingRun(deps, live);
  for (const changed of changedRuns) await publishDeploymentFinished(deps, changed);
  return live;
}

async function restoreStable(
  deps: CanaryDeps,
  run: RunDocument,
  state: CanaryState,
  service: string,
  now: Date,
): Promise<RunDocument | undefined> {
  const observed = await ensureSplit(deps, service, state, 0);
  await failpoint('canary.after-restore');
  await record(deps, run, observed, `canary of run ${run.runId} aborted`);
  const reason = `canary aborted, traffic back on revision ${state.stableRevision}: ${state.outcome?.reason ?? 'aborted'}`;
  const result = await deps.runStore.updateCanary({
    runId: run.runId,
    expectSeq: state.seq,
    canary: canaryFinished(state, now),
    endAs: { status: 'rolled_back', reason },
  });
  if (!result.updated) return undefined;
  // A failing canary is worth a warning; an operator's abort is what they asked for.
  const byOperator = state.steps[state.stepIndex]?.verdict === 'aborted_by_operator';
  deps.logger[byOperator ? 'info' : 'warn']('canary aborted', {
    runId: run.runId,
    revision: state.revision,
    reason,
  });
  try {
    await deps.platform.discardRevision(service, state.revision);
  } catch (error) {
    // The revision has no traffic; a revision left running is waste, not harm.
    deps.logger.warn('could not discard the aborted canary revision', { err: error });
  }
  await publishDeploymentFinished(deps, result.run);
  return result.run;
}

/**
 * Makes the platform serve the canary at `percent` and the stable at the
 * rest, unless it already does: a step's traffic change is made once,
 * however many ticks (or crashed ticks) try it.
 */
async function ensureSplit(
  deps: CanaryDeps,
  service: string,
  state: CanaryState,
  percent: number,
): Promise<ServiceTraffic> {
  const before = await deps.platform.describe(service);
  if (before !== undefined && showsSplit(before, state, percent)) return before;
  const split =
    percent === 0
      ? [{ revision: state.stableRevision, percent: 100 }]
      : [
          { revision: state.revision, percent },
          { revision: state.stableRevision, percent: 100 - percent },
        ];
  const after = await deps.platform.splitTraffic(service, split);
  return (await deps.platform.describe(service)) ?? after;
}

/** True when the canary has `percent` and the stable the rest. */
export function showsSplit(traffic: ServiceTraffic, state: CanaryState, percent: number): boolean {
  const share = (revision: string) =>
    traffic.targets
      .filter((target) => target.revision === revision)
      .reduce((sum, target) => sum + target.percent, 0);
  return share(state.revision) === percent && share(state.stableRevision) === 100 - percent;
}

/** Records what serves, so every view shows the split as it is. */
async function record(
  deps: CanaryDeps,
  run: RunDocument,
  observed: ServiceTraffic,
  cause: string,
): Promise<void> {
  await deps.runStore.recordServing({
    service: observed.service,
    modelEndpointId: run.modelEndpointId,
    observed,
    cause,
  });
}

async function write(
  deps: CanaryDeps,
  run: RunDocument,
  state: CanaryState,
  next: CanaryState,
): Promise<RunDocument | undefined> {
  const result = await deps.runStore.updateCanary({
    runId: run.runId,
    expectSeq: state.seq,
    canary: next,
  });
  if (!result.updated) {
    deps.logger.info('canary moved on meanwhile (another tick wrote first)', { runId: run.runId });
    return undefined;
  }
  return result.run;
}

/**
 * Whether the source sees the answers of both revisions' runtimes: a share of
 * degenerate answers is compared only when both were really looked at.
 */
async function answersComparable(
  deps: CanaryDeps,
  run: RunDocument,
  state: CanaryState,
): Promise<boolean> {
  const sees = deps.metrics.seesAnswersOf;
  if (sees === undefined) return true;
  const stableRun =
    state.stableRunId === undefined ? undefined : await deps.runStore.getRun(state.stableRunId);
  return [run.serving?.runtime, stableRun?.serving?.runtime].every(
    (runtime) => runtime !== undefined && sees.includes(runtime),
  );
}

function windowMetricsOf(
  reading: RevisionWindowMetrics | undefined,
  withAnswers: boolean,
): WindowMetrics {
  if (reading === undefined) return { requests: 0, errors: 0 };
  return {
    requests: reading.requests,
    errors: reading.errors,
    ...(reading.latencyP50Ms === undefined ? {} : { latencyP50Ms: reading.latencyP50Ms }),
    ...(reading.latencyP99Ms === undefined ? {} : { latencyP99Ms: reading.latencyP99Ms }),
    ...(reading.answers === undefined || !withAnswers ? {} : { answers: reading.answers }),
  };
}
