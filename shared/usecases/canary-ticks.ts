/**
 * Every canary's tick: the reconciler's pass runs it (Cloud Scheduler each
 * minute in the cloud), and the local stack also runs it alone every
 * CANARY_TICK_S, so a canary step is judged soon after its hold is over.
 */
import { toRecdeployError } from '../errors.js';
import { stepLabel } from '../domain/canary-machine.js';
import type { RunDocument } from '../domain/run-document.js';
import { advanceCanary, type CanaryDeps } from './advance-canary.js';

export interface CanaryTick {
  readonly runId: string;
  /** The run's status and canary phase after the tick. */
  readonly status: string;
  readonly phase?: string;
  /** What it is at, in words: "holding step 1 of 2 (10% of traffic)", or how it ended. */
  readonly summary: string;
}

export async function advanceCanaries(
  deps: CanaryDeps,
  clock: () => Date = () => new Date(),
): Promise<{
  readonly ticks: readonly CanaryTick[];
  readonly errors: readonly { readonly what: string; readonly code: string }[];
}> {
  const ticks: CanaryTick[] = [];
  const errors: { what: string; code: string }[] = [];
  let runIds: string[] = [];
  try {
    runIds = (await deps.runStore.listRuns({ status: 'canary', limit: 500 })).map((r) => r.runId);
  } catch (error) {
    errors.push({ what: 'canary runs', code: toRecdeployError(error).code });
  }
  for (const runId of runIds) {
    try {
      const run = await advanceCanary(deps, runId, clock);
      if (run !== undefined) {
        ticks.push({
          runId,
          status: run.status,
          ...(run.canary === undefined ? {} : { phase: run.canary.phase }),
          summary: summaryOf(run),
        });
      }
    } catch (error) {
      const failure = toRecdeployError(error);
      deps.logger.warn('canary tick failed; the next tick tries again', {
        runId,
        code: failure.code,
        message: failure.message,
      });
      errors.push({ what: `canary ${runId}`, code: failure.code });
    }
  }
  return { ticks, errors };
}

function summaryOf(run: RunDocument): string {
  const canary = run.canary;
  if (canary === undefined) return run.status;
  if (run.status === 'canary') return `${canary.phase} ${stepLabel(canary)}`;
  return `${run.status}: ${canary.outcome?.reason ?? run.statusReason ?? canary.phase}`;
}
