/**
 * The rollout plan a run gets (shared/domain/rollout-plan.ts) and the
 * operator's policy from the environment (shared/config/rollout-policy-config.ts):
 * a run may make its rollout more careful, never less.
 */
import assert from 'node:assert/strict';
import {
  DEFAULT_CANARY_PLAN,
  resolveRolloutPlan,
  type CanaryPlan,
  type RecdeployError,
  type RolloutPolicy,
} from '@recdeploy/shared';
import { loadChainConfig } from '@recdeploy/shared/chain';

const CANARY: CanaryPlan = { ...DEFAULT_CANARY_PLAN, steps: [10, 50, 100], minHoldS: 300 };
const POLICY: RolloutPolicy = {
  defaultPlan: { strategy: 'all-at-once' },
  endpointPlans: { checkout: CANARY },
  canaryDefaults: CANARY,
};

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.equal((error as RecdeployError).code, 'ROLLOUT.OUTSIDE_POLICY');
    return (error as Error).message;
  }
  assert.fail('expected ROLLOUT.OUTSIDE_POLICY');
}

describe('rollout plan within the policy', () => {
  it('gives each endpoint its own plan, and the default to the others', () => {
    assert.deepEqual(resolveRolloutPlan(POLICY, 'home', undefined), { strategy: 'all-at-once' });
    assert.deepEqual(resolveRolloutPlan(POLICY, 'checkout', undefined), CANARY);
  });

  it('lets a run ask for a canary under an all-at-once policy, with its own settings', () => {
    const plan = resolveRolloutPlan(POLICY, 'home', { steps: [50, 100], minHoldS: 30 });
    assert.equal(plan.strategy, 'canary');
    assert.deepEqual(plan.strategy === 'canary' && plan.steps, [50, 100]);
    assert.equal(plan.strategy === 'canary' && plan.minHoldS, 30);
  });

  it('lets a run be more careful than its canary policy: smaller first step, longer hold, stricter limits', () => {
    const plan = resolveRolloutPlan(POLICY, 'checkout', {
      steps: [1, 10, 50, 100],
      minHoldS: 600,
      thresholds: { maxErrorRatioIncrease: 0.001 },
    });
    assert.ok(plan.strategy === 'canary');
    assert.deepEqual(plan.steps, [1, 10, 50, 100]);
    assert.equal(plan.thresholds.maxErrorRatioIncrease, 0.001);
    assert.equal(plan.thresholds.maxLatencyP99Ratio, CANARY.thresholds.maxLatencyP99Ratio);
  });

  it('refuses every way a run would be less careful than its canary policy, all in one message', () => {
    const message = refusal(() =>
      resolveRolloutPlan(POLICY, 'checkout', {
        steps: [50, 100],
        minHoldS: 10,
        minRequests: 5,
        thresholds: { maxErrorRatioIncrease: 0.5, latencyToleranceMs: 1_000 },
      }),
    );
    assert.match(
      message,
      /first step \(50%\) exposes more traffic than the policy of endpoint checkout allows \(10%\)/,
    );
    assert.match(message, /min_hold_s 10 is below the policy's 300/);
    assert.match(message, /min_requests 5 is below the policy's 200/);
    assert.match(message, /max_error_ratio_increase 0.5 is above the policy's 0.01/);
    assert.match(message, /latency_tolerance_ms 1000 is above the policy's 25/);
  });

  it('refuses all-at-once where the policy requires a canary, and accepts it where it does not', () => {
    assert.match(
      refusal(() => resolveRolloutPlan(POLICY, 'checkout', { strategy: 'all-at-once' })),
      /requires a canary/,
    );
    assert.deepEqual(resolveRolloutPlan(POLICY, 'home', { strategy: 'all-at-once' }), {
      strategy: 'all-at-once',
    });
  });

  it('refuses step lists that are not a plan', () => {
    for (const steps of [[100], [10, 50], [50, 10, 100], [0, 100], [10, 10, 100]]) {
      refusal(() => resolveRolloutPlan(POLICY, 'home', { steps }));
    }
    assert.match(
      refusal(() => resolveRolloutPlan(POLICY, 'home', { minHoldS: 100, maxHoldS: 50 })),
      /max_hold_s \(50\) must be at least min_hold_s \(100\)/,
    );
  });
});

describe('rollout policy from the environment', () => {
  it('defaults to all-at-once for every endpoint', () => {
    const config = loadChainConfig({});
    assert.deepEqual(config.rollout.defaultPlan, { strategy: 'all-at-once' });
    assert.deepEqual(config.rollout.canaryDefaults.steps, [10, 50, 100]);
  });

  it('reads the canary settings and per-endpoint plans', () => {
    const config = loadChainConfig({
      ROLLOUT_STRATEGY: 'canary',
      CANARY_STEPS: '5, 20,100',
      CANARY_MIN_HOLD_S: '120',
      CANARY_MAX_LATENCY_P99_RATIO: '3',
      ROLLOUT_ENDPOINTS:
        '{"batch-recs": {"strategy": "all-at-once"}, "home": {"steps": [1, 100], "min_requests": 50}}',
    });
    const plan = config.rollout.defaultPlan;
    assert.ok(plan.strategy === 'canary');
    assert.deepEqual(plan.steps, [5, 20, 100]);
    assert.equal(plan.minHoldS, 120);
    assert.equal(plan.thresholds.maxLatencyP99Ratio, 3);
    assert.deepEqual(config.rollout.endpointPlans['batch-recs'], { strategy: 'all-at-once' });
    const home = config.rollout.endpointPlans.home;
    assert.ok(home?.strategy === 'canary');
    assert.deepEqual(home.steps, [1, 100]);
    assert.equal(home.minRequests, 50);
    assert.equal(home.minHoldS, 120, 'unset fields come from the CANARY_* settings');
  });

  it('reads steps separated by semicolons or spaces too (gcloud --set-env-vars splits on commas)', () => {
    for (const steps of ['10;50;100', '10 50 100']) {
      const plan = loadChainConfig({ ROLLOUT_STRATEGY: 'canary', CANARY_STEPS: steps }).rollout
        .defaultPlan;
      assert.deepEqual(plan.strategy === 'canary' && plan.steps, [10, 50, 100], steps);
    }
  });

  it('lists every problem with the rollout variables at once', () => {
    assert.throws(
      () =>
        loadChainConfig({
          CANARY_STEPS: '50,20',
          CANARY_MIN_HOLD_S: '600',
          CANARY_MAX_HOLD_S: '60',
          ROLLOUT_ENDPOINTS: '{"home": {"steps": [10]}}',
        }),
      (error: Error) =>
        /CANARY_STEPS=50,20: steps must increase/.test(error.message) &&
        /the last step must be 100/.test(error.message) &&
        /CANARY_MAX_HOLD_S \(60\) must be at least CANARY_MIN_HOLD_S \(600\)/.test(error.message) &&
        /ROLLOUT_ENDPOINTS/.test(error.message),
    );
    assert.throws(
      () => loadChainConfig({ ROLLOUT_ENDPOINTS: '{not json' }),
      /ROLLOUT_ENDPOINTS is not JSON/,
    );
    // An id the event schema would refuse as model_endpoint_id can match no run.
    assert.throws(
      () =>
        loadChainConfig({ ROLLOUT_ENDPOINTS: '{"A/B": {"strategy": "canary"}, "Home.v2": {}}' }),
      /ROLLOUT_ENDPOINTS: "A\/B" is not an endpoint id/,
    );
    const mixedCase = loadChainConfig({
      ROLLOUT_ENDPOINTS: '{"Home.v2": {"strategy": "canary"}}',
    });
    assert.equal(mixedCase.rollout.endpointPlans['Home.v2']?.strategy, 'canary');
  });
});
