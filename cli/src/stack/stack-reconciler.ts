/**
 * The local stack's reconciler loop (DESIGN.md §4 "Convergence and truth"):
 * one pass once the functions and the bus are up, then one every lease
 * lifetime, so a run whose hand-off was lost or whose attempt died is moved
 * on, and run statuses follow what the routers serve. In the cloud the same
 * use case runs from Cloud Scheduler (functions/reconcile).
 */
import type { Logger } from '@recdeploy/shared';
import { reconcile, type ReconcileDeps, type ReconcileReport } from '@recdeploy/shared/chain';

export interface StackReconciler {
  /** Resolves once a pass that is running has finished. */
  stop(): Promise<void>;
}

export function startReconciler(
  deps: ReconcileDeps,
  options: { readonly intervalMs: number; readonly progress: (line: string) => void },
): StackReconciler {
  let running: Promise<void> | undefined;
  let stopped = false;
  const pass = (): void => {
    if (stopped || running !== undefined) return;
    running = reconcile(deps)
      .then((report) => tell(report, options.progress))
      .catch((error: unknown) => warn(deps.logger, error))
      .finally(() => {
        running = undefined;
      });
  };
  pass();
  const timer = setInterval(pass, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
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
}

function warn(logger: Logger, error: unknown): void {
  logger.warn('reconciler pass failed; the next one tries again', { error: String(error) });
}
