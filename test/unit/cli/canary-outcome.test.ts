/**
 * What `recdeploy promote` / `recdeploy abort` print (canary-outcome.ts):
 * the request as recorded, then the outcome and what serves, or who will
 * carry it out; and the --json report. Canary states come from the domain's
 * functions (canary-states.ts).
 */
import assert from 'node:assert/strict';
import {
  canaryActionReport,
  describeCanaryAction,
  type CanaryActionContext,
} from '../../../cli/src/output/canary-outcome.js';
import { liveRun, servingRecord } from './run-documents.js';
import * as s from './canary-states.js';

const RECORDED = liveRun({
  runId: 'home-train-9',
  status: 'canary',
  serving: { ...liveRun().serving!, revision: s.CANARY_REV },
  canary: s.abortAsked,
});
const REASON = `canary aborted, traffic back on revision ${s.STABLE_REV}: ${s.abortedByAlice.outcome?.reason ?? '?'}`;
const ROLLED_BACK = {
  ...RECORDED,
  status: 'rolled_back' as const,
  statusReason: REASON,
  canary: s.abortedByAlice,
};
const STABLE_SERVES = servingRecord();
const CARRIER = 'the local stack (pid 42) carries it out at its next canary tick (every 5 s)';

function context(overrides: Partial<CanaryActionContext>): CanaryActionContext {
  return {
    action: 'abort',
    recorded: RECORDED,
    final: RECORDED,
    carriedOut: false,
    carrier: CARRIER,
    published: [],
    where: '',
    ...overrides,
  };
}

const FIRST_LINES = [
  'run home-train-9: abort recorded, requested by alice via recdeploy abort at 2030-01-01T10:01:00.000Z',
  `  canary of revision ${s.CANARY_REV} against stable ${s.STABLE_REV}, holding step 1 of 2 (10% of traffic) when asked`,
];

describe('CLI canary request output', () => {
  it('prints the outcome, the run’s status and what serves once the tick carried it out', () => {
    const done = context({
      final: ROLLED_BACK,
      carriedOut: true,
      waitedS: 3,
      serving: STABLE_SERVES,
    });
    assert.deepEqual(describeCanaryAction(done), [
      ...FIRST_LINES,
      '  aborted: aborted by alice via recdeploy abort at step 1 of 2 (10% of traffic)',
      `  now rolled_back: ${REASON}`,
      '  service rec-home serves rec-home-r7-abcd1234 100% (run home-train-7)',
    ]);
    const report = canaryActionReport(done);
    assert.equal(report.carriedOut, true);
    assert.equal(report.status, 'rolled_back');
    assert.equal(report.phase, 'aborted');
    assert.deepEqual(report.outcome, s.abortedByAlice.outcome);
    assert.equal(report.requestedBy, 'alice via recdeploy abort');
    assert.equal(report.waitedS, 3);
    assert.equal(report.serving, STABLE_SERVES);
  });

  it('says who carries it out when it was not carried out while waiting, or without waiting', () => {
    assert.deepEqual(describeCanaryAction(context({ waitedS: 60 })), [
      ...FIRST_LINES,
      `  not carried out within 60 s; the request stays recorded in the run: ${CARRIER}`,
    ]);
    assert.deepEqual(describeCanaryAction(context({})).at(-1), `  ${CARRIER}`);
  });

  it('names the reconcile-tick message it published (cloud)', () => {
    const lines = describeCanaryAction(
      context({
        published: [{ topic: 'reconcile-tick', messageId: '7781', runId: 'home-train-9' }],
        where: 'Pub/Sub project my-project',
      }),
    );
    assert.equal(lines[2], '  published reconcile-tick message 7781 to Pub/Sub project my-project');
  });
});
