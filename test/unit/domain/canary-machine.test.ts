/**
 * The canary state machine (shared/domain/canary-machine.ts), exhaustively:
 * every step of several plans × every verdict × a crash between writing a
 * decision and moving the traffic. The "platform" here is one number (the
 * canary's percent); the driver does what advance-canary.ts does with a
 * decision: make the traffic the phase asks for, then write the next state.
 */
import assert from 'node:assert/strict';
import {
  DEFAULT_CANARY_PLAN,
  applyOperatorRequest,
  canaryEffect,
  canaryFinished,
  decideHold,
  requestCanaryAction,
  startCanary,
  trafficMoved,
  wantedCanaryPercent,
  type CanaryAnalysis,
  type CanaryPlan,
  type CanaryState,
  type RecdeployError,
} from '@recdeploy/shared';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000);
const PLANS: readonly CanaryPlan[] = [
  { ...DEFAULT_CANARY_PLAN, steps: [10, 100], minHoldS: 60, maxHoldS: 600, minRequests: 100 },
  { ...DEFAULT_CANARY_PLAN, steps: [10, 50, 100], minHoldS: 60, maxHoldS: 600, minRequests: 100 },
  {
    ...DEFAULT_CANARY_PLAN,
    steps: [5, 25, 50, 100],
    minHoldS: 60,
    maxHoldS: 600,
    minRequests: 100,
  },
];
const VERDICTS = ['pass', 'fail', 'wait', 'starved', 'operator-promote', 'operator-abort'] as const;
type Verdict = (typeof VERDICTS)[number];

function analysis(verdict: 'pass' | 'fail' | 'wait', requests: number): CanaryAnalysis {
  const metrics = { requests, errors: verdict === 'fail' ? requests : 0 };
  return {
    from: at(0).toISOString(),
    to: at(1).toISOString(),
    canary: metrics,
    stable: { requests: 10 * requests, errors: 0 },
    findings: [],
    verdict,
    summary: `judged ${verdict}`,
  };
}

/** A world: the stored state and what the platform serves (the canary's percent). */
interface World {
  state: CanaryState;
  canaryPercent: number;
  trafficChanges: number;
}

/** Does what the stored phase asks of the platform, then writes the follow-up state. */
function carryOut(world: World, now: Date, crashBeforeTraffic: boolean): void {
  const effect = canaryEffect(world.state);
  if (crashBeforeTraffic) return; // the decision is stored; the process died before moving traffic
  const wanted =
    effect.kind === 'split'
      ? effect.percent
      : effect.kind === 'promote'
        ? 100
        : effect.kind === 'restore-stable'
          ? 0
          : undefined;
  if (wanted === undefined) return;
  if (world.canaryPercent !== wanted) {
    world.canaryPercent = wanted;
    world.trafficChanges += 1;
  }
  world.state =
    effect.kind === 'split' ? trafficMoved(world.state, now) : canaryFinished(world.state, now);
}

/** The canary holding at step `index`, every earlier step passed. */
function holdingAt(plan: CanaryPlan, index: number): World {
  const world: World = {
    state: startCanary(plan, { revision: 'rec-00002', stableRevision: 'rec-00001' }, at(0)),
    canaryPercent: 0,
    trafficChanges: 0,
  };
  carryOut(world, at(1), false);
  for (let step = 0; step < index; step += 1) {
    world.state = decideHold(world.state, analysis('pass', 500), at(100 * (step + 1)));
    carryOut(world, at(100 * (step + 1) + 1), false);
  }
  assert.equal(world.state.phase, 'holding');
  assert.equal(world.state.stepIndex, index);
  return world;
}

function decide(world: World, verdict: Verdict, now: Date): void {
  switch (verdict) {
    case 'pass':
    case 'fail':
    case 'wait':
      world.state = decideHold(world.state, analysis(verdict, 500), now);
      return;
    case 'starved': // too few requests, past max hold
      world.state = decideHold(world.state, analysis('wait', 3), at(10_000));
      return;
    default: {
      const action = verdict === 'operator-promote' ? 'promote' : 'abort';
      const requested = requestCanaryAction(
        world.state,
        { action, at: now.toISOString(), by: 'alice' },
        now,
      );
      world.state = applyOperatorRequest(requested, now);
    }
  }
}

/** What each verdict must lead to from holding at `index` of `plan`. */
function expected(plan: CanaryPlan, index: number, verdict: Verdict) {
  const last = index === plan.steps.length - 2;
  switch (verdict) {
    case 'pass':
      return last
        ? { phase: 'promoted', percent: 100, outcome: 'promoted' }
        : { phase: 'holding', percent: plan.steps[index + 1], stepIndex: index + 1 };
    case 'wait':
      return { phase: 'holding', percent: plan.steps[index], stepIndex: index };
    case 'operator-promote':
      return { phase: 'promoted', percent: 100, outcome: 'promoted' };
    default:
      return { phase: 'aborted', percent: 0, outcome: 'aborted' };
  }
}

describe('canary state machine', () => {
  for (const plan of PLANS) {
    const judged = plan.steps.length - 1;
    for (let index = 0; index < judged; index += 1) {
      for (const verdict of VERDICTS) {
        for (const crash of [false, true]) {
          const name = `steps ${plan.steps.join('→')}, step ${index + 1}/${judged}, ${verdict}${crash ? ', crash between decision and traffic' : ''}`;
          it(name, () => {
            const world = holdingAt(plan, index);
            const changesBefore = world.trafficChanges;
            const seqBefore = world.state.seq;
            decide(world, verdict, at(1_000));
            const decided = world.state;
            carryOut(world, at(1_001), crash);
            if (crash) {
              // The restarted tick reads the stored decision and finishes it.
              assert.equal(world.state, decided, 'nothing but the decision was stored');
              carryOut(world, at(1_002), false);
            }
            const want = expected(plan, index, verdict);
            assert.equal(world.state.phase, want.phase);
            assert.equal(world.canaryPercent, want.percent);
            assert.equal(wantedCanaryPercent(world.state), want.percent);
            if (want.stepIndex !== undefined) assert.equal(world.state.stepIndex, want.stepIndex);
            assert.equal(world.state.outcome?.result, want.outcome);
            // A move happens once, crash or not; waiting moves nothing.
            const moved = want.percent === wantedPercentBefore(plan, index) ? 0 : 1;
            assert.equal(world.trafficChanges - changesBefore, moved);
            // Every write moves seq forward (the compare-and-set token).
            assert.ok(world.state.seq > seqBefore);
          });
        }
      }
    }
  }

  function wantedPercentBefore(plan: CanaryPlan, index: number): number {
    return plan.steps[index] ?? 100;
  }

  it('names the failed step, the metric summary and the verdict in the abort reason', () => {
    const world = holdingAt(PLANS[1] as CanaryPlan, 1);
    decide(world, 'fail', at(1_000));
    assert.equal(world.state.phase, 'aborting');
    assert.equal(world.state.outcome?.reason, 'step 2 of 2 (50% of traffic) failed: judged fail');
    assert.equal(world.state.steps[1]?.verdict, 'failed');
    assert.equal(world.state.steps[0]?.verdict, 'passed');
  });

  it('aborts a starved step only once its max hold is over, and says how many requests it saw', () => {
    const world = holdingAt(PLANS[0] as CanaryPlan, 0);
    world.state = decideHold(world.state, analysis('wait', 3), at(599));
    assert.equal(world.state.phase, 'holding');
    world.state = decideHold(world.state, analysis('wait', 3), at(700));
    assert.equal(world.state.phase, 'aborting');
    assert.match(
      world.state.outcome?.reason ?? '',
      /the canary had 3 and the stable 30 requests, 100 needed on each/,
    );
  });

  it('refuses an operator request once the canary is being promoted or has ended', () => {
    const world = holdingAt(PLANS[0] as CanaryPlan, 0);
    decide(world, 'pass', at(1_000));
    assert.equal(world.state.phase, 'promoting');
    assert.throws(
      () =>
        requestCanaryAction(
          world.state,
          { action: 'abort', at: at(1).toISOString(), by: 'bob' },
          at(2),
        ),
      (error: RecdeployError) => error.code === 'RUN.CANARY_ENDED',
    );
  });

  it('keeps the first step’s window start when a crashed split is made again', () => {
    const plan = PLANS[1] as CanaryPlan;
    const decided = startCanary(plan, { revision: 'r2', stableRevision: 'r1' }, at(0));
    // Two ticks after a crash read the same stored decision: the split they make is the same.
    assert.deepEqual(canaryEffect(decided), canaryEffect(structuredClone(decided)));
    assert.deepEqual(canaryEffect(decided), { kind: 'split', percent: 10 });
    assert.equal(trafficMoved(decided, at(5)).steps[0]?.trafficAt, at(5).toISOString());
  });
});
