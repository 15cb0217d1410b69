/**
 * Freshness, once per reconciler pass (docs/architecture.md "Freshness"):
 * finds the limits each endpoint's live model passes at the pass's `now`
 * (domain/freshness.ts) and announces each breach once, through the run
 * store's alert outbox (domain/freshness-alert.ts):
 *
 *   breach seen   → open the alert (create-if-absent) → publish `breached`
 *                   unless already announced → mark it announced;
 *   breach gone   → publish `resolved` → close the alert.
 *
 * A step that fails is repeated at the next pass with the same alert id, so
 * consumers get each message at least once and dedupe on (alert_id, state).
 * Alerts are resolved only for endpoints read without error in this pass: a
 * store that could not be read must not look like a cleared breach.
 */
import { buildFreshnessAlertV1, type FreshnessAlertV1 } from '@recdeploy/events';
import { toRecdeployError } from '../errors.js';
import type { FreshnessAlert } from '../domain/freshness-alert.js';
import { freshnessAlertOf } from '../domain/freshness-alert.js';
import {
  freshnessBreaches,
  freshnessChecksAnything,
  freshnessLimitsFor,
  type FreshnessBreach,
  type FreshnessKind,
} from '../domain/freshness.js';
import type { ChainDeps } from './chain-deps.js';

export type FreshnessDeps = Pick<ChainDeps, 'config' | 'logger' | 'runStore' | 'eventBus'>;

/** A freshness-alert message this pass published. */
export interface FreshnessTick {
  readonly endpoint: string;
  readonly kind: FreshnessKind;
  readonly state: 'breached' | 'resolved';
  readonly alertId: string;
}

type Attempt = (what: string, work: () => Promise<void>) => Promise<boolean>;

/** How many of an endpoint's newest runs are looked at for max_lag. */
const RECENT_RUNS = 200;

export async function checkFreshness(
  deps: FreshnessDeps,
  now: Date,
): Promise<{
  readonly ticks: readonly FreshnessTick[];
  readonly errors: readonly { readonly what: string; readonly code: string }[];
}> {
  const ticks: FreshnessTick[] = [];
  const errors: { what: string; code: string }[] = [];
  const attempt: Attempt = async (what, work) => {
    try {
      await work();
      return true;
    } catch (error) {
      const failure = toRecdeployError(error);
      deps.logger.warn('freshness: could not look at it this time', { what, code: failure.code });
      errors.push({ what, code: failure.code });
      return false;
    }
  };

  const found = await findBreaches(deps, now, attempt);
  let open: readonly FreshnessAlert[] = [];
  const listed = await attempt('freshness alerts', async () => {
    open = await deps.runStore.listFreshnessAlerts();
  });
  if (!listed) return { ticks, errors };
  const current = new Set<string>();
  for (const breach of found.breaches) {
    const alert = freshnessAlertOf(breach, now);
    current.add(alert.alertId);
    await attempt(`freshness alert ${alert.alertId}`, async () => {
      const { alert: stored } = await deps.runStore.openFreshnessAlert(alert);
      if (stored.announcedAt !== undefined) return;
      await publish(deps, messageOf(stored, 'breached'));
      await deps.runStore.markFreshnessAlertAnnounced(stored.alertId, now);
      ticks.push(tickOf(stored, 'breached'));
    });
  }
  for (const alert of open) {
    if (current.has(alert.alertId) || !found.settled(alert.modelEndpointId)) continue;
    await attempt(`freshness alert ${alert.alertId}`, async () => {
      // Also when its `breached` was never marked announced: a crash after
      // that publish must not leave a consumer with a breach that never ends.
      await publish(deps, messageOf(alert, 'resolved', now));
      await deps.runStore.closeFreshnessAlert(alert.alertId);
      ticks.push(tickOf(alert, 'resolved'));
    });
  }
  return { ticks, errors };
}

/**
 * The breaches of every endpoint with a live run, and which endpoints were
 * read without error (only their open alerts may be resolved).
 */
async function findBreaches(
  deps: FreshnessDeps,
  now: Date,
  attempt: Attempt,
): Promise<{ breaches: FreshnessBreach[]; settled: (endpoint: string) => boolean }> {
  const policy = deps.config.freshness.policy;
  const breaches: FreshnessBreach[] = [];
  if (!freshnessChecksAnything(policy)) return { breaches, settled: () => true };
  const unread = new Set<string>();
  let records: Awaited<ReturnType<FreshnessDeps['runStore']['listServingRecords']>> = [];
  const listed = await attempt('freshness: serving records', async () => {
    records = await deps.runStore.listServingRecords();
  });
  if (!listed) return { breaches, settled: () => false };
  for (const record of records) {
    const endpoint = record.modelEndpointId;
    const limits = freshnessLimitsFor(policy, endpoint);
    if (record.liveRunId === undefined) continue;
    if (limits.maxAgeMs === undefined && limits.maxLagMs === undefined) continue;
    const liveRunId = record.liveRunId;
    const read = await attempt(`freshness ${endpoint}`, async () => {
      const liveRun = await deps.runStore.getRun(liveRunId);
      const runs = await deps.runStore.listRuns({ modelEndpointId: endpoint, limit: RECENT_RUNS });
      breaches.push(...freshnessBreaches({ limits, liveRun, runs, now }));
    });
    if (!read) unread.add(endpoint);
  }
  return { breaches, settled: (endpoint) => !unread.has(endpoint) };
}

function messageOf(
  alert: FreshnessAlert,
  state: 'breached' | 'resolved',
  resolvedAt?: Date,
): FreshnessAlertV1 {
  return buildFreshnessAlertV1({
    alert_id: alert.alertId,
    model_endpoint_id: alert.modelEndpointId,
    kind: alert.kind,
    state,
    threshold_s: alert.thresholdS,
    breached_since: alert.breachedSince,
    ...(resolvedAt === undefined ? {} : { resolved_at: resolvedAt.toISOString() }),
    ...(alert.liveRunId === undefined ? {} : { live_run_id: alert.liveRunId }),
    ...(alert.liveTrainingCompletedAt === undefined
      ? {}
      : { live_training_completed_at: alert.liveTrainingCompletedAt }),
    ...(alert.newestRunId === undefined ? {} : { newest_run_id: alert.newestRunId }),
    ...(alert.newestTrainingCompletedAt === undefined
      ? {}
      : { newest_training_completed_at: alert.newestTrainingCompletedAt }),
    ...(alert.newestRunStatus === undefined ? {} : { newest_run_status: alert.newestRunStatus }),
    detail: alert.detail,
  });
}

async function publish(deps: FreshnessDeps, message: FreshnessAlertV1): Promise<void> {
  const messageId = await deps.eventBus.publish(deps.config.runtime.topics.freshnessAlert, {
    data: message,
    attributes: {
      alert_id: message.alert_id,
      model_endpoint_id: message.model_endpoint_id,
      state: message.state,
      schema_version: '1',
    },
    orderingKey: message.model_endpoint_id,
  });
  const fields = { alertId: message.alert_id, detail: message.detail, messageId };
  // A breach is worth an operator's attention; its end is news.
  if (message.state === 'breached') deps.logger.warn('freshness: breached', fields);
  else deps.logger.info('freshness: resolved', fields);
}

function tickOf(alert: FreshnessAlert, state: 'breached' | 'resolved'): FreshnessTick {
  return { endpoint: alert.modelEndpointId, kind: alert.kind, state, alertId: alert.alertId };
}
