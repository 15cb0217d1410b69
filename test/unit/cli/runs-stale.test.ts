/** `recdeploy runs` marks the live run of an endpoint with an open freshness alert. */
import assert from 'node:assert/strict';
import type { FreshnessAlert } from '@recdeploy/shared';
import { runsTable, withStaleMark } from '../../../cli/src/output/runs-table.js';
import { liveRun, receivedRun, servingRecord } from './run-documents.js';

const NOW = new Date('2030-01-01T10:05:00.000Z');
const AGE: FreshnessAlert = {
  alertId: 'home:max_age:2029-12-31T10:00:00.000Z',
  modelEndpointId: 'home',
  kind: 'max_age',
  thresholdS: 604_800,
  breachedSince: '2029-12-31T10:00:00.000Z',
  detail: 'the live run home-train-7 finished training 8d ago (limit 7d)',
  liveRunId: 'home-train-7',
  openedAt: '2029-12-31T10:00:05.000Z',
};
const LAG: FreshnessAlert = {
  ...AGE,
  alertId: 'home:max_lag:2030-01-01T09:00:00.000Z',
  kind: 'max_lag',
  thresholdS: 21_600,
  breachedSince: '2030-01-01T09:00:00.000Z',
  detail:
    'home-train-8 (failed) finished training 7h ago and is not live; the live run is home-train-7 (limit 6h)',
};
const OTHER: FreshnessAlert = {
  ...AGE,
  alertId: 'cart:max_age:x',
  modelEndpointId: 'cart',
  liveRunId: 'cart-1',
};

describe('recdeploy runs: stale endpoints', () => {
  const failed = receivedRun({
    runId: 'home-train-8',
    runNumber: 8,
    status: 'failed',
    createdAt: '2030-01-01T08:00:00.000Z',
  });

  it('marks the live run stale and names the endpoint and each limit under the table', () => {
    const lines = runsTable([liveRun(), failed], [servingRecord()], NOW, undefined, [
      AGE,
      LAG,
      OTHER,
    ]);
    assert.match(lines[1] ?? '', /^home-train-7 {2}live stale {2}home /);
    assert.match(lines[2] ?? '', /^home-train-8 {2}failed {6}home /);
    assert.deepEqual(lines.slice(3), [
      `stale: home passes FRESHNESS_MAX_AGE (7d) since 2029-12-31T10:00:00.000Z: ${AGE.detail}`,
      `stale: home passes FRESHNESS_MAX_LAG (6h) since 2030-01-01T09:00:00.000Z: ${LAG.detail}`,
    ]);
  });

  it('without alerts the table is as before', () => {
    const lines = runsTable([liveRun()], [servingRecord()], NOW);
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', /^home-train-7 {2}live {4}home /);
  });

  it('adds `stale` to the document of the live run named by an alert (-o json|yaml), only to it', () => {
    const marked = withStaleMark(liveRun(), [AGE, OTHER]);
    assert.deepEqual('stale' in marked && marked.stale, [
      {
        alertId: AGE.alertId,
        kind: 'max_age',
        thresholdS: 604_800,
        breachedSince: AGE.breachedSince,
        detail: AGE.detail,
      },
    ]);
    assert.equal(withStaleMark(failed, [AGE]), failed);
  });
});
