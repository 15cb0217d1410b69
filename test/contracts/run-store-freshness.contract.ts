/**
 * The RunStore contract for freshness alerts (registered by
 * run-store.contract.ts, so every adapter runs it): open is create-if-absent
 * (once per breach, also when two passes open it at once), announced keeps
 * its first time, close removes it, the list is ordered by breach start.
 */
import assert from 'node:assert/strict';
import type { FreshnessAlert, RunStore } from '@recdeploy/shared';
import { at } from '../fixtures/runs.js';

function alert(endpoint: string, since: Date, overrides: Partial<FreshnessAlert> = {}) {
  const breachedSince = since.toISOString();
  return {
    alertId: `${endpoint}:max_age:${breachedSince}`,
    modelEndpointId: endpoint,
    kind: 'max_age',
    thresholdS: 604_800,
    breachedSince,
    detail: `the live run ${endpoint}-t1 finished training 8d ago (limit 7d)`,
    liveRunId: `${endpoint}-t1`,
    liveTrainingCompletedAt: at(-8 * 86_400_000).toISOString(),
    openedAt: since.toISOString(),
    ...overrides,
  } satisfies FreshnessAlert;
}

export function freshnessAlertsContract(getStore: () => RunStore): void {
  const store = (): RunStore => getStore();
  describe('freshness alerts', () => {
    it('opens an alert once per id; a second open returns the stored one untouched', async () => {
      const first = alert('recs-home', at(1000));
      assert.deepEqual(await store().openFreshnessAlert(first), { created: true, alert: first });
      const again = await store().openFreshnessAlert({ ...first, detail: 'other', openedAt: 'x' });
      assert.deepEqual(again, { created: false, alert: first });
      const racing = await Promise.all([1, 2, 3].map(() => store().openFreshnessAlert(first)));
      assert.ok(racing.every((result) => !result.created));
      assert.deepEqual(await store().listFreshnessAlerts(), [first]);
    });

    it('two passes opening a new alert at once create it once', async () => {
      const fresh = alert('recs-cart', at(5000));
      const results = await Promise.all([1, 2].map(() => store().openFreshnessAlert(fresh)));
      assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
      assert.equal((await store().listFreshnessAlerts()).length, 1);
    });

    it('marks an alert announced once (the first time stays), closes it, ignores unknown ids', async () => {
      const lag = alert('recs-b', at(2000), {
        alertId: `recs-b:max_lag:${at(2000).toISOString()}`,
        kind: 'max_lag',
        newestRunId: 'recs-b-t2',
        newestTrainingCompletedAt: at(0).toISOString(),
        newestRunStatus: 'failed',
      });
      const age = alert('recs-a', at(3000));
      await store().openFreshnessAlert(age);
      await store().openFreshnessAlert(lag);
      await store().markFreshnessAlertAnnounced(lag.alertId, at(4000));
      await store().markFreshnessAlertAnnounced(lag.alertId, at(9000));
      await store().markFreshnessAlertAnnounced('nope:max_age:x', at(9000));
      assert.deepEqual(await store().listFreshnessAlerts(), [
        { ...lag, announcedAt: at(4000).toISOString() },
        age,
      ]);
      await store().closeFreshnessAlert(lag.alertId);
      await store().closeFreshnessAlert(lag.alertId);
      await store().closeFreshnessAlert('nope:max_age:x');
      assert.deepEqual(await store().listFreshnessAlerts(), [age]);
      assert.deepEqual(await store().openFreshnessAlert(lag), { created: true, alert: lag });
    });
  });
}
