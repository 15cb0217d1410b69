/**
 * Canary states for the CLI's output tests, each made by the domain's own
 * functions from the one before (startCanary → trafficMoved → judgeCanaryWindow
 * + decideHold …), never typed by hand, so they are exactly what a tick
 * writes and follow any change of the state machine.
 */
import {
  DEFAULT_CANARY_PLAN,
  applyOperatorRequest,
  canaryFinished,
  decideHold,
  judgeCanaryWindow,
  requestCanaryAction,
  startCanary,
  trafficMoved,
  type CanaryState,
  type WindowMetrics,
} from '@recdeploy/shared';

/** 10:00:00 on the day of the run documents (run-documents.ts); `at(s)` is s seconds later. */
export const T0 = new Date('2030-01-01T10:00:00.000Z');
export function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1_000);
}

export const PLAN = DEFAULT_CANARY_PLAN;
export const CANARY_REV = 'rec-home-r9-99999999';
export const STABLE_REV = 'rec-home-r7-abcd1234';

const HEALTHY: WindowMetrics = {
  requests: 1_203,
  errors: 2,
  latencyP50Ms: 4,
  latencyP99Ms: 19,
  answers: { inspected: 400, degenerate: 0 },
};
const STABLE: WindowMetrics = {
  requests: 10_811,
  errors: 11,
  latencyP50Ms: 4,
  latencyP99Ms: 18,
  answers: { inspected: 400, degenerate: 0 },
};
/** 10% errors against the stable's 0.1%: past the limit (the stable's + 1 point). */
const FAILING: WindowMetrics = { requests: 900, errors: 90, latencyP50Ms: 4.25, latencyP99Ms: 21 };

/** Decided at 10:00:00: step 1 (10%) moving. */
export const moving = startCanary(
  PLAN,
  { revision: CANARY_REV, stableRevision: STABLE_REV, stableRunId: 'home-train-7' },
  T0,
);
/** The split serves from 10:00:05. */
export const held = trafficMoved(moving, at(5));
/** Judged at 10:00:47: healthy, 42 s of the 300 s hold. */
export const judging = decideHold(
  held,
  judgeCanaryWindow(PLAN, HEALTHY, STABLE, { from: at(5), through: at(47) }),
  at(47),
);
/** Passed at 10:05:05 (300 s held): step 2 (50%) decided. */
export const secondStep = decideHold(
  judging,
  judgeCanaryWindow(PLAN, HEALTHY, STABLE, { from: at(5), through: at(305) }),
  at(305),
);
/** Step 2 serves from 10:05:10. */
export const secondHeld = trafficMoved(secondStep, at(310));
/** Step 2 failed at 10:06:10 on its error ratio: aborting. */
export const failing = decideHold(
  secondHeld,
  judgeCanaryWindow(PLAN, FAILING, STABLE, { from: at(310), through: at(370) }),
  at(370),
);
/** The stable has all the traffic again. */
export const aborted = canaryFinished(failing, at(375));

/** alice asked for an abort at 10:01:00, while step 1 held. */
export const abortAsked = requestCanaryAction(
  judging,
  { action: 'abort', at: at(60).toISOString(), by: 'alice via recdeploy abort' },
  at(60),
);
/** The next tick (10:01:05) decided it: aborting. */
export const abortDecided = applyOperatorRequest(abortAsked, at(65));
/** bob asked for a promotion at 10:01:00 and the tick carried it out. */
export const promotedByBob: CanaryState = canaryFinished(
  applyOperatorRequest(
    requestCanaryAction(
      judging,
      { action: 'promote', at: at(60).toISOString(), by: 'bob via recdeploy promote' },
      at(60),
    ),
    at(65),
  ),
  at(66),
);

/** alice's abort carried out: the stable serves everything again. */
export const abortedByAlice = canaryFinished(abortDecided, at(66));
