import assert from 'node:assert/strict';
import {
  decideClaimStep,
  decideCompleteStep,
  decideFailStep,
  decideTransition,
  type ClaimStepRequest,
  type RunDocument,
} from '@recdeploy/shared';
import { T0, at } from '../../fixtures/runs.js';
import {
  DocumentCell,
  claimed as claimedBy,
  errorOf,
  must,
  newRun,
  walk,
} from './run-decisions.js';

const RUN = 'recs-home-train-001';
const claimReq = (owner: string, overrides: Partial<ClaimStepRequest> = {}): ClaimStepRequest => ({
  runId: RUN,
  step: 'register',
  owner,
  leaseMs: 60_000,
  ...overrides,
});

function claimed(doc: RunDocument, owner = 'a', now = at(1_000)): RunDocument {
  return must(decideClaimStep(doc, claimReq(owner), { now, eventId: 'evt-1' }).write);
}

describe('step decisions', () => {
  describe('claimStep', () => {
    it('claims a ready step: attempt 1, running status, a lease, one history entry', () => {
      const { write, result } = decideClaimStep(newRun(), claimReq('a'), {
        now: at(1_000),
        eventId: 'evt-1',
      });
      assert.equal(result.kind, 'claimed');
      assert.equal(result.kind === 'claimed' && result.attempt, 1);
      const doc = must(write);
      assert.equal(doc.status, 'registering');
      assert.deepEqual(doc.steps.register, {
        status: 'in_progress',
        attempts: 1,
        startedAt: at(1_000).toISOString(),
        lease: { owner: 'a', expiresAt: at(61_000).toISOString() },
      });
      assert.deepEqual(doc.history.at(-1), {
        at: at(1_000).toISOString(),
        from: 'received',
        to: 'registering',
        eventId: 'evt-1',
      });
      assert.equal(doc.updatedAt, at(1_000).toISOString());
    });

    it('answers busy, writing nothing, while another owner holds an unexpired lease', () => {
      const decision = decideClaimStep(claimed(newRun()), claimReq('b'), { now: at(30_000) });
      assert.deepEqual(decision.result.kind, 'busy');
      assert.equal(
        decision.result.kind === 'busy' && decision.result.leaseExpiresAt,
        at(61_000).toISOString(),
      );
      assert.equal(decision.write, undefined);
    });

    it('is not re-entrant: the same owner also gets busy while its lease runs', () => {
      const decision = decideClaimStep(claimed(newRun()), claimReq('a'), { now: at(2_000) });
      assert.equal(decision.result.kind, 'busy');
    });

    it('takes over an expired lease with attempts + 1, keeping startedAt', () => {
      const { write, result } = decideClaimStep(claimed(newRun()), claimReq('b'), {
        now: at(61_000),
        eventId: 'evt-2',
      });
      assert.equal(result.kind === 'claimed' && result.attempt, 2);
      const doc = must(write);
      assert.equal(doc.status, 'registering');
      assert.equal(doc.steps.register.attempts, 2);
      assert.equal(doc.steps.register.startedAt, at(1_000).toISOString());
      assert.deepEqual(doc.steps.register.lease, {
        owner: 'b',
        expiresAt: at(121_000).toISOString(),
      });
      const last = must(doc.history.at(-1));
      assert.equal(last.from, 'registering');
      assert.equal(last.to, 'registering');
      assert.equal(last.eventId, 'evt-2');
      assert.match(must(last.reason), /register attempt 2 \(lease of a expired\)/);
    });

    it('answers done for a step that succeeded', () => {
      const cell = new DocumentCell(claimed(newRun()));
      cell.apply((d) =>
        decideCompleteStep(d, { runId: RUN, step: 'register', owner: 'a' }, { now: at(2_000) }),
      );
      const decision = decideClaimStep(cell.doc, claimReq('b'), { now: at(3_000) });
      assert.equal(decision.result.kind, 'done');
      assert.equal(decision.write, undefined);
    });

    for (const to of ['failed', 'skipped'] as const) {
      it(`answers closed for a ${to} run`, () => {
        const doc = must(decideTransition(newRun(), { runId: RUN, to }, { now: at(1) }).write);
        const decision = decideClaimStep(doc, claimReq('a'), { now: at(2) });
        assert.equal(decision.result.kind, 'closed');
        assert.equal(decision.write, undefined);
      });
    }

    it('answers not_ready when the previous step has not succeeded', () => {
      const decision = decideClaimStep(claimed(newRun()), claimReq('a', { step: 'deploy' }), {
        now: at(2_000),
      });
      assert.equal(decision.result.kind, 'not_ready');
      assert.equal(decision.write, undefined);
    });

    it('throws PermanentError RUN.NOT_FOUND for an unknown run', () => {
      const error = errorOf(() => decideClaimStep(undefined, claimReq('a'), { now: T0 }));
      assert.equal(error.code, 'RUN.NOT_FOUND');
      assert.equal(error.retryable, false);
    });
  });

  describe('completeStep', () => {
    it('finishes the step, moves the run on, clears the lease and applies the patch', () => {
      const { write, result } = decideCompleteStep(
        claimed(newRun()),
        {
          runId: RUN,
          step: 'register',
          owner: 'a',
          patch: { registry: { model: 'm/1', version: '3' } },
        },
        { now: at(5_000), eventId: 'evt-1' },
      );
      const doc = must(write);
      assert.equal(result.changed, true);
      assert.equal(doc.status, 'registered');
      assert.deepEqual(doc.steps.register, {
        status: 'succeeded',
        attempts: 1,
        startedAt: at(1_000).toISOString(),
        endedAt: at(5_000).toISOString(),
      });
      assert.deepEqual(doc.registry, { model: 'm/1', version: '3' });
      assert.deepEqual(
        doc.history.map((h) => h.to),
        ['received', 'registering', 'registered'],
      );
    });

    it('a repeat completion is a no-op that writes nothing', () => {
      const cell = new DocumentCell(claimed(newRun()));
      const request = { runId: RUN, step: 'register' as const, owner: 'a' };
      cell.apply((d) => decideCompleteStep(d, request, { now: at(5_000) }));
      const again = decideCompleteStep(cell.doc, request, { now: at(6_000) });
      assert.equal(again.result.changed, false);
      assert.equal(again.write, undefined);
    });

    it('refuses an owner whose lease was taken over: TransientError RUN.LEASE_LOST', () => {
      const cell = new DocumentCell(claimed(newRun()));
      cell.apply((d) => decideClaimStep(d, claimReq('b'), { now: at(70_000) }));
      const error = errorOf(() =>
        decideCompleteStep(
          cell.doc,
          { runId: RUN, step: 'register', owner: 'a' },
          { now: at(71_000) },
        ),
      );
      assert.equal(error.code, 'RUN.LEASE_LOST');
      assert.equal(error.retryable, true);
      assert.equal(error.metadata.holder, 'b');
    });

    it('refuses a completion of a step nobody claimed', () => {
      const error = errorOf(() =>
        decideCompleteStep(newRun(), { runId: RUN, step: 'register', owner: 'a' }, { now: at(1) }),
      );
      assert.equal(error.code, 'RUN.LEASE_LOST');
      assert.equal(error.metadata.holder, null);
    });

    it('accepts the holder after its lease expired when nobody took over', () => {
      const { write } = decideCompleteStep(
        claimed(newRun()),
        { runId: RUN, step: 'register', owner: 'a' },
        { now: at(500_000) },
      );
      assert.equal(must(write).status, 'registered');
    });

    it('is a no-op when the run ended meanwhile', () => {
      const skipped = must(
        decideTransition(claimed(newRun()), { runId: RUN, to: 'skipped' }, { now: at(2_000) })
          .write,
      );
      const decision = decideCompleteStep(
        skipped,
        { runId: RUN, step: 'register', owner: 'a' },
        { now: at(3_000) },
      );
      assert.equal(decision.result.changed, false);
      assert.equal(decision.result.run.status, 'skipped');
    });

    it('walks a run to live through all three steps', () => {
      const live = walk(newRun(), ['register', 'deploy', 'verify']);
      assert.equal(live.status, 'live');
      assert.deepEqual(
        live.history.map((h) => h.to),
        ['received', 'registering', 'registered', 'deploying', 'deployed', 'verifying', 'live'],
      );
    });

    it("refuses verify's completion outside recordServing (a run goes live only with what serves)", () => {
      const verifying = claimedBy(walk(newRun(), ['register', 'deploy']), 'verify', 'w', at(1_000));
      const error = errorOf(() =>
        decideCompleteStep(
          verifying,
          { runId: RUN, step: 'verify', owner: 'w' },
          { now: at(1_010) },
        ),
      );
      assert.equal(error.code, 'RUN.ILLEGAL_TRANSITION');
      assert.equal(error.retryable, false);
    });
  });

  describe('failStep', () => {
    it('transient: step back to pending with its error, lease cleared, run status kept', () => {
      const { write, result } = decideFailStep(
        claimed(newRun()),
        {
          runId: RUN,
          step: 'register',
          owner: 'a',
          permanent: false,
          error: { code: 'DEPENDENCY.UNAVAILABLE', message: '503' },
        },
        { now: at(2_000), eventId: 'evt-1' },
      );
      const doc = must(write);
      assert.equal(result.changed, true);
      assert.equal(doc.status, 'registering');
      assert.deepEqual(doc.steps.register, {
        status: 'pending',
        attempts: 1,
        startedAt: at(1_000).toISOString(),
        error: { code: 'DEPENDENCY.UNAVAILABLE', message: '503' },
      });
      // The redelivery claims at once (no lease to wait for) as attempt 2.
      const again = decideClaimStep(doc, claimReq('b'), { now: at(3_000) });
      assert.equal(again.result.kind === 'claimed' && again.result.attempt, 2);
      assert.match(must(must(again.write).history.at(-1)?.reason), /attempt 2 \(retry\)/);
    });

    it('permanent with endAs skipped: the run and the step end as skipped, the reason kept', () => {
      const { write } = decideFailStep(
        claimed(newRun()),
        {
          runId: RUN,
          step: 'register',
          owner: 'a',
          permanent: true,
          endAs: 'skipped',
          error: { code: 'RUN.SUPERSEDED', message: 'run 7 is newer and live' },
        },
        { now: at(2_000), eventId: 'evt-1' },
      );
      const doc = must(write);
      assert.equal(doc.status, 'skipped');
      assert.equal(doc.statusReason, 'RUN.SUPERSEDED: run 7 is newer and live');
      assert.equal(doc.steps.register.status, 'skipped');
      assert.equal(doc.steps.register.lease, undefined);
      assert.deepEqual(doc.history.at(-1), {
        at: at(2_000).toISOString(),
        from: 'registering',
        to: 'skipped',
        eventId: 'evt-1',
        reason: 'RUN.SUPERSEDED: run 7 is newer and live',
      });
    });

    it('keeps the patch of a failed step (the verification that failed)', () => {
      const verification = { checks: [{ name: 'latency', passed: false, detail: 'p99 900 ms' }] };
      const { write } = decideFailStep(
        claimed(newRun()),
        {
          runId: RUN,
          step: 'register',
          owner: 'a',
          permanent: true,
          error: { code: 'VERIFY.FAILED', message: '1 of 1 checks failed' },
          patch: { verification },
        },
        { now: at(2_000) },
      );
      assert.deepEqual(must(write).verification, verification);
      assert.equal(must(write).status, 'failed');
    });

    it('permanent: the run fails with a statusReason and the step keeps the error', () => {
      const cell = new DocumentCell(claimed(newRun()));
      const request = {
        runId: RUN,
        step: 'register' as const,
        owner: 'a',
        permanent: true,
        error: { code: 'EVENT.INVALID', message: 'artifact missing' },
      };
      cell.apply((d) => decideFailStep(d, request, { now: at(2_000) }));
      assert.equal(cell.doc.status, 'failed');
      assert.match(must(cell.doc.statusReason), /EVENT\.INVALID: artifact missing/);
      assert.equal(cell.doc.steps.register.status, 'failed');
      assert.equal(cell.doc.steps.register.endedAt, at(2_000).toISOString());
      assert.deepEqual(cell.doc.steps.register.error, request.error);
      assert.equal(
        decideClaimStep(cell.doc, claimReq('b'), { now: at(3_000) }).result.kind,
        'closed',
      );
      const repeat = decideFailStep(cell.doc, request, { now: at(4_000) });
      assert.equal(repeat.result.changed, false);
      assert.equal(repeat.write, undefined);
    });

    it('truncates a huge error message and statusReason', () => {
      const { write } = decideFailStep(
        claimed(newRun()),
        {
          runId: RUN,
          step: 'register',
          owner: 'a',
          permanent: true,
          error: { code: 'X', message: 'e'.repeat(100_000) },
        },
        { now: at(2_000) },
      );
      const doc = must(write);
      assert.equal(must(doc.steps.register.error).message.length, 2_000);
      assert.match(must(doc.steps.register.error).message, /more chars\]$/);
      assert.ok(must(doc.statusReason).length <= 2_000);
    });

    it('refuses an owner that does not hold the step', () => {
      const error = errorOf(() =>
        decideFailStep(
          claimed(newRun()),
          {
            runId: RUN,
            step: 'register',
            owner: 'z',
            permanent: true,
            error: { code: 'X', message: 'x' },
          },
          { now: at(2_000) },
        ),
      );
      assert.equal(error.code, 'RUN.LEASE_LOST');
    });
  });
});
