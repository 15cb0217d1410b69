/**
 * The local stack's reconciler loop (DESIGN.md §4 "Convergence and truth"):
 * one pass once the functions and the bus are up, then one every lease
 * lifetime, so a run whose hand-off was lost or whose attempt died is moved
 * on, and run statuses follow what the routers serve. In the cloud the same
 * use case runs from Cloud Scheduler (functions/reconcile).
 */
import { FRESHNESS_LIMIT_SETTINGS, type Logger } from '@recdeploy/shared';
import {
  advanceCanaries,
  reconcile,
  type CanaryDeps,
  type CanaryTick,
  type ReconcileDeps,
  type ReconcileReport,
} from '@recdeploy/shared/chain';

export interface StackReconciler {
  /** Resolves once a pass that is running has finished. */
  stop(): Promise<void>;
}

export function startReconciler(
  deps: ReconcileDeps,
  options: { readonly intervalMs: number; readonly progress: (line: string) => void },
): StackReconciler {
  return repeat(
    async () => tell(await reconcile(deps), options.progress),
    deps.logger,
    options.intervalMs,
    { runAtOnce: true },
  );
}

/**
 * Canaries are looked at more often than the reconciler's pass (every
 * CANARY_TICK_S): a step is judged soon after its hold is over, and an
 * operator's promote or abort is carried out within seconds. Ticks never
 * overlap here; the store's compare-and-set covers one overlapping with the
 * reconciler's pass.
 */
export function startCanaryTicker(
  deps: CanaryDeps,
  options: { readonly intervalMs: number; readonly progress: (line: string) => void },
): StackReconciler {
  const seen = new Map<string, string>();
  return repeat(
    async () => tellCanaries((await advanceCanaries(deps)).ticks, seen, options.progress),
    deps.logger,
    options.intervalMs,
    { runAtOnce: false },
  );
}

/** Runs `work` every `intervalMs`, never two at once; a failure is logged and the next run tries again. */
function repeat(
  work: () => Promise<void>,
  logger: Logger,
  intervalMs: number,
  options: { readonly runAtOnce: boolean },
): StackReconciler {
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = (): void => {
    if (stopped || running !== undefined) return;
    running = work()
      .catch((error: unknown) => warn(logger, error))
      .finally(() => {
        running = undefined;
      });
  };
  if (options.runAtOnce) run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** One line per canary whose phase changed since the last tick. */
function tellCanaries(
  ticks: readonly CanaryTick[],
  seen: Map<string, string>,
  progress: (line: string) => void,
): void {
  for (const { runId, summary } of ticks) {
    if (seen.get(runId) === summary) continue;
    seen.set(runId, summary);
    progress(`canary: ${runId}: ${summary}`);
  }
}

function tell(report: ReconcileReport, progress: (line: string) => void): void {
  for (const { runId, step } of report.redriven) {
    progress(`reconciler: ${runId} had stalled before ${step}; its ${step} step was started again`);
  }
  for (const { service, runs } of report.corrected) {
    progress(
      `reconciler: ${service}: run statuses corrected to what it serves (${runs.join(', ')})`,
    );
  }
  for (const { endpoint, kind, state } of report.freshness) {
    const limit = FRESHNESS_LIMIT_SETTINGS[kind];
    progress(
      state === 'breached'
        ? `freshness: ${endpoint} is stale (past ${limit}); freshness-alert published`
        : `freshness: ${endpoint} is fresh again (${limit}); freshness-alert resolved`,
    );
  }
}

function warn(logger: Logger, error: unknown): void {
  logger.warn('reconciler pass failed; the next one tries again', { error: String(error) });
}
