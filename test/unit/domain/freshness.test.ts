import assert from 'node:assert/strict';
import type { RunDocument } from '@recdeploy/shared';
import { parseDuration, formatDuration } from '../../../shared/domain/duration-text.js';
import {
  freshnessAlertId,
  freshnessBreaches,
  freshnessLimitsFor,
  type FreshnessLimits,
} from '../../../shared/domain/freshness.js';
import { freshnessSettingsOf } from '../../../shared/config/freshness-policy-config.js';
import { loadChainConfig } from '@recdeploy/shared/chain';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = new Date('2030-01-10T00:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

/** The parts of a run document the freshness check reads. */
function run(
  trainingRunId: string,
  status: RunDocument['status'],
  completedAt: string | undefined,
  extra: Partial<RunDocument> = {},
): RunDocument {
  return {
    runId: `recs-home-${trainingRunId}`,
    trainingRunId,
    modelEndpointId: 'recs-home',
    modelSlug: 'two-tower',
    runNumber: Number(trainingRunId.replace(/\D/g, '')) || 1,
    modelType: 'retrieval',
    retrievalAlgorithm: 'hnsw',
    artifactUri: 'gs://models/x',
    isBlessed: true,
    metrics: {},
    ...(completedAt === undefined ? {} : { completedAt }),
    status,
    steps: {
      register: { status: 'succeeded', attempts: 1 },
      deploy: { status: 'succeeded', attempts: 1 },
      verify: { status: 'succeeded', attempts: 1 },
    },
    history: [],
    createdAt: ago(30 * DAY),
    updatedAt: ago(0),
    ...extra,
  };
}

const check = (limits: FreshnessLimits, live: RunDocument | undefined, runs: RunDocument[] = []) =>
  freshnessBreaches({ limits, liveRun: live, runs: live ? [live, ...runs] : runs, now: NOW });

describe('freshness', () => {
  describe('max_age', () => {
    it('breaches when the live run trained longer ago than the limit, from training end + limit', () => {
      const live = run('t1', 'live', ago(8 * DAY));
      const [breach, ...more] = check({ maxAgeMs: 7 * DAY }, live);
      assert.equal(more.length, 0);
      assert.equal(breach?.kind, 'max_age');
      assert.equal(breach?.breachedSince, ago(DAY));
      assert.equal(breach?.liveRun.trainingCompletedAt, ago(8 * DAY));
      assert.equal(breach?.detail, 'the live run recs-home-t1 finished training 8d ago (limit 7d)');
      assert.equal(breach && freshnessAlertId(breach), `recs-home:max_age:${ago(DAY)}`);
    });

    it('does not breach within the limit nor at exactly the limit; one millisecond more does', () => {
      assert.deepEqual(check({ maxAgeMs: 7 * DAY }, run('t1', 'live', ago(6 * DAY))), []);
      assert.deepEqual(check({ maxAgeMs: 7 * DAY }, run('t1', 'live', ago(7 * DAY))), []);
      assert.equal(check({ maxAgeMs: 7 * DAY }, run('t1', 'live', ago(7 * DAY + 1))).length, 1);
    });

    it('uses createdAt when the run has no completedAt, and says so', () => {
      const live = run('t1', 'live', undefined, { createdAt: ago(9 * DAY + 2 * HOUR) });
      const [breach] = check({ maxAgeMs: 7 * DAY }, live);
      assert.equal(breach?.liveRun.completedAtKnown, false);
      assert.equal(breach?.breachedSince, ago(2 * DAY + 2 * HOUR));
      assert.match(breach?.detail ?? '', /has no training end time; it was received 9d 2h ago/);
    });

    it('checks nothing without a live run or without limits', () => {
      assert.deepEqual(check({ maxAgeMs: 1 }, undefined, [run('t1', 'failed', ago(9 * DAY))]), []);
      assert.deepEqual(check({}, run('t1', 'live', ago(90 * DAY))), []);
    });
  });

  describe('max_lag', () => {
    const live = run('t1', 'live', ago(3 * DAY));

    it('counts newer runs that are not live, failed and unblessed ones included, from the oldest', () => {
      const failed = run('t2', 'failed', ago(10 * HOUR));
      const unblessed = run('t3', 'skipped', ago(2 * HOUR), { isBlessed: false });
      const [breach] = check({ maxLagMs: 6 * HOUR }, live, [unblessed, failed]);
      assert.equal(breach?.kind, 'max_lag');
      assert.equal(breach?.breachedSince, ago(4 * HOUR));
      assert.equal(breach?.newestRun?.runId, 'recs-home-t2');
      assert.equal(breach?.newestRun?.status, 'failed');
      assert.match(
        breach?.detail ?? '',
        /^recs-home-t2 \(failed\) \(and 1 newer\) finished training 10h ago and is not live; the live run is recs-home-t1 \(limit 6h\)$/,
      );
    });

    it('does not breach within the lag, at exactly the lag, nor for older runs', () => {
      const older = run('t0', 'failed', ago(20 * DAY));
      assert.deepEqual(
        check({ maxLagMs: 6 * HOUR }, live, [older, run('t2', 'verifying', ago(5 * HOUR))]),
        [],
      );
      assert.deepEqual(
        check({ maxLagMs: 6 * HOUR }, live, [run('t2', 'deploying', ago(6 * HOUR))]),
        [],
      );
    });

    it('leaves out a run skipped as superseded by a newer run that has been live', () => {
      const superseded = run('t2', 'skipped', ago(12 * HOUR), { runNumber: 2 });
      const rolledBack = run('t3', 'rolled_back', ago(8 * HOUR), { runNumber: 3 });
      const [breach] = check({ maxLagMs: 6 * HOUR }, live, [superseded, rolledBack]);
      assert.equal(breach?.newestRun?.runId, 'recs-home-t3');
      assert.equal(breach?.breachedSince, ago(2 * HOUR));
    });

    it('reports both limits when both are passed', () => {
      const breaches = check({ maxAgeMs: DAY, maxLagMs: HOUR }, live, [
        run('t2', 'failed', ago(2 * HOUR)),
      ]);
      assert.deepEqual(
        breaches.map((b) => b.kind),
        ['max_age', 'max_lag'],
      );
    });
  });

  describe('policy', () => {
    const settings = (env: Record<string, string>) => freshnessSettingsOf({ ...env });

    it('reads durations, per-endpoint overrides (a field left out keeps the default) and "off"', () => {
      const parsed = settings({
        FRESHNESS_MAX_AGE: '7d',
        FRESHNESS_MAX_LAG: '6h',
        FRESHNESS_ENDPOINTS: JSON.stringify({
          'recs-cart': { max_age: '36h' },
          'recs-lab': 'off',
          'recs-x': { max_lag: 'off', max_age: '90m' },
        }),
      });
      assert.ok(!Array.isArray(parsed));
      const { policy } = parsed;
      assert.deepEqual(freshnessLimitsFor(policy, 'recs-home'), {
        maxAgeMs: 7 * DAY,
        maxLagMs: 6 * HOUR,
      });
      assert.deepEqual(freshnessLimitsFor(policy, 'recs-cart'), {
        maxAgeMs: 36 * HOUR,
        maxLagMs: 6 * HOUR,
      });
      assert.deepEqual(freshnessLimitsFor(policy, 'recs-lab'), {});
      assert.deepEqual(freshnessLimitsFor(policy, 'recs-x'), { maxAgeMs: 90 * 60_000 });
      assert.deepEqual(settings({}), { policy: { defaults: {}, endpoints: {} } });
    });

    it('names every bad value: durations, endpoint ids, fields', () => {
      const problems = settings({
        FRESHNESS_MAX_AGE: '7 days',
        FRESHNESS_MAX_LAG: '0h',
        FRESHNESS_ENDPOINTS:
          '{"a/b": {"max_age": "1d"}, "ok": {"maxage": "1d"}, "n": {"max_lag": 5}}',
      });
      assert.ok(Array.isArray(problems));
      assert.equal(problems.length, 5, problems.join('\n'));
      assert.match(problems[0] ?? '', /^FRESHNESS_MAX_AGE: "7 days" is not a duration/);
      assert.match(problems[1] ?? '', /^FRESHNESS_MAX_LAG: "0h" is not a duration above zero/);
      assert.match(problems.join('\n'), /"a\/b" is not an endpoint id/);
      assert.match(problems.join('\n'), /FRESHNESS_ENDPOINTS\.ok must be "off" or an object/);
      assert.match(problems.join('\n'), /FRESHNESS_ENDPOINTS\.n\.max_lag must be a string/);
      assert.deepEqual(settings({ FRESHNESS_ENDPOINTS: '[1]' }), [
        'FRESHNESS_ENDPOINTS must be a JSON object: endpoint id → limits',
      ]);
      const notJson = settings({ FRESHNESS_ENDPOINTS: '{' });
      assert.ok(Array.isArray(notJson));
      assert.match(notJson.join('\n'), /FRESHNESS_ENDPOINTS is not JSON/);
    });

    it('a bad freshness variable stops loadChainConfig with its reason', () => {
      assert.throws(
        () => loadChainConfig({ FRESHNESS_MAX_AGE: 'soon' }),
        /FRESHNESS_MAX_AGE: "soon" is not a duration/,
      );
      assert.equal(
        loadChainConfig({ FRESHNESS_MAX_AGE: '45s' }).freshness.policy.defaults.maxAgeMs,
        45_000,
      );
    });
  });

  it('durations read and print as an operator writes them', () => {
    assert.deepEqual(['7d', '36h', '90m', '45s'].map(parseDuration), [
      7 * DAY,
      36 * HOUR,
      90 * 60_000,
      45_000,
    ]);
    assert.deepEqual(
      [8 * DAY + 2 * HOUR, 36 * HOUR, 90 * 60_000, 45_000, 7 * DAY, 400].map(formatDuration),
      ['8d 2h', '1d 12h', '1h 30m', '45s', '7d', '0s'],
    );
  });
});
