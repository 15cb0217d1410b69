/**
 * The judgement of one canary window (shared/domain/canary-analysis.ts):
 * every metric is compared with the stable revision over the same window,
 * a verdict needs enough requests on both, a failure is immediate, a pass
 * waits for the hold. Expected values are worked out by hand here.
 */
import assert from 'node:assert/strict';
import {
  DEFAULT_CANARY_PLAN,
  judgeCanaryWindow,
  type CanaryPlan,
  type WindowMetrics,
} from '@recdeploy/shared';

const PLAN: CanaryPlan = { ...DEFAULT_CANARY_PLAN, minHoldS: 60, minRequests: 100 };
const FROM = new Date('2026-12-06T10:00:00.000Z');
const after = (s: number) => new Date(FROM.getTime() + s * 1000);

const healthy = (requests: number, overrides: Partial<WindowMetrics> = {}): WindowMetrics => ({
  requests,
  errors: 0,
  latencyP50Ms: 5,
  latencyP99Ms: 20,
  answers: { inspected: requests, degenerate: 0 },
  ...overrides,
});

function judge(canary: WindowMetrics, stable: WindowMetrics, heldS = 120) {
  return judgeCanaryWindow(PLAN, canary, stable, { from: FROM, through: after(heldS) });
}

describe('canary window judgement', () => {
  it('waits while either revision has fewer than min_requests, even when the canary fails everything', () => {
    const analysis = judge(healthy(99, { errors: 99 }), healthy(5_000));
    assert.equal(analysis.verdict, 'wait');
    assert.match(analysis.summary, /the canary has 99, the stable 5000/);
    assert.equal(judge(healthy(500), healthy(99)).verdict, 'wait');
  });

  it('passes at the limit: error ratio exactly the stable plus 1 point', () => {
    // stable 1% (10 of 1000), canary 2% (4 of 200): the limit is 2.0%.
    const analysis = judge(healthy(200, { errors: 4 }), healthy(1_000, { errors: 10 }));
    const errors = analysis.findings.find((f) => f.metric === 'error_ratio');
    assert.equal(errors?.passed, true);
    assert.equal(errors?.limit?.toFixed(4), '0.0200');
    assert.equal(analysis.verdict, 'pass');
  });

  it('fails one error past the limit, at once (before the hold ends), naming both values and the threshold', () => {
    const analysis = judge(healthy(200, { errors: 5 }), healthy(1_000, { errors: 10 }), 5);
    assert.equal(analysis.verdict, 'fail');
    assert.match(
      analysis.summary,
      /error ratio \(5xx and time-outs\) 2\.5% on the canary \(5 of 200 requests\) against 1\.0% on the stable \(10 of 1000\): above the limit of 2\.0% \(the stable's \+ 1\.0 points\)/,
    );
  });

  it('judges latency against the stable: a ratio, with a floor of tolerance for small values', () => {
    // p99: stable 20 ms × 2 = 40 ms; stable + 25 ms = 45 ms → limit 45 ms.
    const within = judge(healthy(300, { latencyP99Ms: 45 }), healthy(3_000));
    assert.equal(within.findings.find((f) => f.metric === 'latency_p99')?.limit, 45);
    assert.equal(within.verdict, 'pass');
    const slow = judge(healthy(300, { latencyP99Ms: 100 }), healthy(3_000));
    assert.equal(slow.verdict, 'fail');
    assert.match(
      slow.summary,
      /p99 latency 100 ms on the canary against 20 ms on the stable: above the limit of 45 ms/,
    );
    // p50: stable 200 ms × 1.5 = 300 ms beats the 225 ms floor.
    const p50 = judge(
      healthy(300, { latencyP50Ms: 301, latencyP99Ms: 400 }),
      healthy(3_000, { latencyP50Ms: 200, latencyP99Ms: 400 }),
    );
    const finding = p50.findings.find((f) => f.metric === 'latency_p50');
    assert.equal(finding?.limit, 300);
    assert.equal(finding?.passed, false);
  });

  it('does not fail a canary for what the stable suffers too (same window, relative limits)', () => {
    const bothSlow = { errors: 30, latencyP50Ms: 400, latencyP99Ms: 2_000 };
    const analysis = judge(healthy(300, { ...bothSlow, errors: 3 }), healthy(3_000, bothSlow));
    assert.equal(analysis.verdict, 'pass', analysis.summary);
  });

  it('judges degenerate answers when both revisions report them, and says when they are not measured', () => {
    const degenerate = judge(
      healthy(300, { answers: { inspected: 300, degenerate: 9 } }),
      healthy(3_000, { answers: { inspected: 3_000, degenerate: 30 } }),
    );
    // canary 3%, stable 1% + 1 point = 2% → fail.
    assert.equal(degenerate.verdict, 'fail');
    assert.match(
      degenerate.summary,
      /share of degenerate answers .* 3\.0% on the canary \(9 of 300 answers\)/,
    );
    const unmeasured: WindowMetrics = { ...healthy(300) };
    delete (unmeasured as { answers?: unknown }).answers;
    const notMeasured = judge(unmeasured, healthy(3_000));
    const finding = notMeasured.findings.find((f) => f.metric === 'degenerate_ratio');
    assert.equal(finding?.passed, undefined);
    assert.match(finding?.detail ?? '', /not measured/);
    assert.equal(notMeasured.verdict, 'pass');
  });

  it('waits for the hold when every metric is within its limit, and passes once it is over', () => {
    const early = judge(healthy(300), healthy(3_000), 59);
    assert.equal(early.verdict, 'wait');
    assert.match(early.summary, /held 59 s of 60 s/);
    assert.equal(judge(healthy(300), healthy(3_000), 60).verdict, 'pass');
  });

  it('records the window it judged: from the step start to where the metrics were complete', () => {
    const analysis = judge(healthy(300), healthy(3_000), 90);
    assert.equal(analysis.from, FROM.toISOString());
    assert.equal(analysis.to, after(90).toISOString());
  });
});
