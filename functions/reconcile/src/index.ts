/**
 * functions/reconcile: the reconcile-tick topic's handler (an HTTP function
 * decoding the CloudEvent itself, as functions/register explains)
 * (Cloud Scheduler → Pub/Sub → Eventarc → this function, once a minute).
 * Every tick runs one reconciler pass (shared/usecases/reconcile-runs.ts):
 * stalled runs get their hand-off again, canaries whose step is due move on
 * (judged on Cloud Monitoring's metrics), run statuses follow what Cloud Run
 * serves. The message body means nothing; any tick triggers a pass (an
 * operator's `recdeploy promote|abort --project` publishes one, so its
 * request is carried out at once).
 *
 * A pass that could not look at everything (report.errors) still
 * acknowledges its tick: the next tick tries again within a minute, and a
 * redelivered tick would only add a pass. What does answer 500 (and is
 * redelivered a few times) is a failure before the pass, such as adapters
 * that cannot be created; configuration errors stop the cold start, as in
 * the other functions (shared/wiring/chain-runtime.ts).
 */
import * as functions from '@google-cloud/functions-framework';
import { reconcile, type ReconcileDeps, type ReconcileReport } from '@recdeploy/shared/chain';
import { chainHttpHandler } from '@recdeploy/shared/chain-wiring';

/** The entry point name (`--entry-point`, `--target`). */
export const ENTRY_POINT = 'reconcile';

/** One pass for one tick, logged as one line with what it did. */
export async function reconcileOnTick(deps: ReconcileDeps, tick: unknown): Promise<void> {
  const report = await reconcile(deps);
  const line = reportLine(report, tickIdOf(tick));
  if (report.errors.length > 0) {
    deps.logger.warn('reconcile: pass done, some of it is left for the next tick', line);
  } else {
    deps.logger.info('reconcile: pass done', line);
  }
}

/** The report as log fields: counts first, then what was touched. */
export function reportLine(report: ReconcileReport, tick?: string): Record<string, unknown> {
  return {
    ...(tick === undefined ? {} : { tick }),
    redrivenCount: report.redriven.length,
    correctedCount: report.corrected.length,
    errorCount: report.errors.length,
    canaryCount: report.canaries.length,
    freshnessCount: report.freshness.length,
    redriven: report.redriven.map(({ runId, step }) => `${runId}:${step}`),
    corrected: report.corrected.map(({ service, runs }) => `${service}(${runs.join(',')})`),
    errors: report.errors.map(({ what, code }) => `${what}: ${code}`),
    canaries: report.canaries.map(({ runId, summary }) => `${runId}: ${summary}`),
    freshness: report.freshness.map(({ state, alertId }) => `${state} ${alertId}`),
  };
}

/** The CloudEvent id (the Pub/Sub message id), when the tick has one. */
function tickIdOf(tick: unknown): string | undefined {
  if (typeof tick !== 'object' || tick === null) return undefined;
  const id = (tick as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

functions.http(ENTRY_POINT, chainHttpHandler('reconcile', reconcileOnTick));
