/**
 * The reconciler (DESIGN.md §4 "Convergence and truth"): re-drives whatever
 * stopped moving and makes the run documents agree with what the platform
 * serves. It reads only the run store and the platform, is idempotent (every
 * re-drive goes through the store's once-per-window hand-off claim), moves
 * every canary whose step is due (canary-ticks.ts), announces freshness
 * breaches and their end (freshness-ticks.ts), and
 * writes what it did into each run's history. The cloud runs it from Cloud
 * Scheduler (functions/reconcile); the local stack on a timer and at start.
 */
import type { RunDocument, RunStatus, StepName } from '../domain/run-document.js';
import { RUN_CHAIN } from '../domain/run-state-machine.js';
import { findStalledStep, type StalledRun } from '../domain/step-hand-off.js';
import { toRecdeployError } from '../errors.js';
import type { ChainDeps } from './chain-deps.js';
import { publishDeploymentFinished } from './chain-events.js';
import { advanceCanaries, type CanaryTick } from './canary-ticks.js';
import { checkFreshness, type FreshnessTick } from './freshness-ticks.js';
import { republishHandOff } from './hand-off-publishing.js';
import { convergeServingAlias, type AliasDeps } from './serving-alias.js';

export type ReconcileDeps = Pick<
  ChainDeps,
  'config' | 'logger' | 'runStore' | 'eventBus' | 'platform' | 'indexBuilds' | 'metrics'
> &
  AliasDeps;

export interface ReconcileReport {
  /** Runs whose stalled step got its hand-off again. */
  readonly redriven: readonly { readonly runId: string; readonly step: StepName }[];
  /** Services whose serving record or run statuses changed to match the platform. */
  readonly corrected: readonly { readonly service: string; readonly runs: readonly string[] }[];
  /** Canaries looked at, with the phase each is in afterwards. */
  readonly canaries: readonly CanaryTick[];
  /** freshness-alert messages published (a breach announced, or resolved). */
  readonly freshness: readonly FreshnessTick[];
  /** What could not be looked at this time (the next pass tries again). */
  readonly errors: readonly { readonly what: string; readonly code: string }[];
}

/** Statuses of runs in flight: the chain before live (the chain moves them; they can stall). */
const IN_FLIGHT: readonly RunStatus[] = RUN_CHAIN.filter((status) => status !== 'live');

/** One pass over every run in flight and every serving service. */
export async function reconcile(deps: ReconcileDeps, now = new Date()): Promise<ReconcileReport> {
  const canaries = await advanceCanaries(deps);
  const redriven: { runId: string; step: StepName }[] = [];
  const corrected: { service: string; runs: string[] }[] = [];
  const errors: { what: string; code: string }[] = [];
  const attempt = async (what: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      const failure = toRecdeployError(error);
      deps.logger.warn('reconciler: could not look at it this time', { what, code: failure.code });
      errors.push({ what, code: failure.code });
    }
  };

  for (const status of IN_FLIGHT) {
    let runs: readonly RunDocument[] = [];
    await attempt(`runs ${status}`, async () => {
      runs = await deps.runStore.listRuns({ status, limit: 500 });
    });
    for (const run of runs) {
      const stalled = findStalledStep(run, now, deps.config.leases.handOffWindowMs);
      if (stalled === undefined) continue;
      await attempt(`run ${run.runId}`, async () => {
        if (await waitsForIndexBuild(deps, run, stalled)) return;
        const claim = await republishHandOff(deps, {
          runId: run.runId,
          step: stalled.step,
          reason: redriveReason(stalled),
        });
        if (claim.kind === 'claimed') {
          deps.logger.info('reconciler: re-drove a stalled run', {
            runId: run.runId,
            step: stalled.step,
          });
          redriven.push({ runId: run.runId, step: stalled.step });
        }
      });
    }
  }

  for (const [service, modelEndpointId] of await servicesToObserve(deps, attempt)) {
    await attempt(`service ${service}`, async () => {
      const observed = await deps.platform.describe(service);
      if (observed === undefined) return;
      const { changedRuns } = await deps.runStore.recordServing({
        service,
        modelEndpointId,
        observed,
        cause: 'observed by the reconciler',
      });
      if (changedRuns.length === 0) return;
      deps.logger.warn('reconciler: run statuses corrected to what the platform serves', {
        service,
        runs: changedRuns.map((run) => `${run.runId}=${run.status}`),
      });
      corrected.push({ service, runs: changedRuns.map((run) => run.runId) });
      for (const run of changedRuns) await publishDeploymentFinished(deps, run);
    });
    // The registry's `live` alias converges on the run recorded live (serving-alias.ts).
    await attempt(`registry alias of ${service}`, () => convergeServingAlias(deps, service));
  }
  // After the services are observed, so a run that just went live counts.
  const freshness = await checkFreshness(deps, now);
  return {
    redriven,
    corrected,
    canaries: canaries.ticks,
    freshness: freshness.ticks,
    errors: [...canaries.errors, ...errors, ...freshness.errors],
  };
}

/** Services with a serving record or a live run, with their model endpoint. */
async function servicesToObserve(
  deps: ReconcileDeps,
  attempt: (what: string, work: () => Promise<void>) => Promise<void>,
): Promise<Map<string, string>> {
  const services = new Map<string, string>();
  await attempt('serving records', async () => {
    for (const record of await deps.runStore.listServingRecords()) {
      services.set(record.service, record.modelEndpointId);
    }
    for (const run of await deps.runStore.listRuns({ status: 'live', limit: 500 })) {
      if (run.serving !== undefined) services.set(run.serving.service, run.modelEndpointId);
    }
  });
  return services;
}

/** A deploy step released to wait for a running index-build job is not stalled. */
async function waitsForIndexBuild(
  deps: ReconcileDeps,
  run: RunDocument,
  stalled: StalledRun,
): Promise<boolean> {
  if (stalled.step !== 'deploy' || run.steps.deploy.error?.code !== 'INDEX.BUILDING') return false;
  return (await deps.indexBuilds.status(run.runId)).state === 'running';
}

function redriveReason(stalled: StalledRun): string {
  const lapsed =
    stalled.lapsedLease === undefined
      ? 'no attempt holds it'
      : `the lease of ${stalled.lapsedLease.owner} lapsed at ${stalled.lapsedLease.expiresAt}`;
  return `reconciler: ${stalled.step} had not moved since ${stalled.lastActivity} (${lapsed}); its hand-off published again`;
}
