/**
 * The heartbeat of a step lease and the once-per-window hand-off
 * (shared/domain/step-hand-off.ts), and completeStep's stamp of the next
 * step's hand-off (DESIGN.md §4 "Convergence and truth").
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decideClaimHandOff,
  decideClaimStep,
  decideCompleteStep,
  decideFailStep,
  decideRenewStepLease,
  decideTransition,
  type ClaimHandOffRequest,
  type RunDocument,
  type StepName,
} from '@recdeploy/shared';
import { at } from '../../fixtures/runs.js';
import { DocumentCell, claimed, errorOf, must, newRun, walk } from './run-decisions.js';

const RUN = 'recs-home-train-001';
const WINDOW = 10_000;

const handOff = (step: StepName, reason = 'duplicate delivery'): ClaimHandOffRequest => ({
  runId: RUN,
  step,
  windowMs: WINDOW,
  reason,
});

describe('step hand-off decisions', () => {
  describe('decideRenewStepLease (heartbeat)', () => {
    const renew = (doc: RunDocument | undefined, owner: string, now: Date, leaseMs = 1_000) =>
      decideRenewStepLease(doc, { runId: RUN, step: 'register', owner, leaseMs }, { now });

    it("extends the holder's lease to now + leaseMs, keeps everything else, adds no history", () => {
      const held = claimed(newRun(), 'register', 'a', at(0), 1_000);
      const { write, result } = renew(held, 'a', at(800), 5_000);
      assert.deepEqual(result, { expiresAt: at(5_800).toISOString() });
      const doc = must(write);
      assert.deepEqual(doc.steps.register, {
        ...held.steps.register,
        lease: { owner: 'a', expiresAt: at(5_800).toISOString() },
      });
      assert.equal(doc.status, 'registering');
      assert.deepEqual(doc.history, held.history);
      assert.equal(doc.updatedAt, at(800).toISOString());
    });

    it('keeps what the attempt found so far (a patch) with the renewed lease', () => {
      const held = claimed(newRun(), 'register', 'a', at(0), 1_000);
      const registry = { model: 'models/m', version: '3' };
      const doc = must(
        decideRenewStepLease(
          held,
          { runId: RUN, step: 'register', owner: 'a', leaseMs: 1_000, patch: { registry } },
          { now: at(500) },
        ).write,
      );
      assert.deepEqual(doc.registry, registry);
      assert.equal(doc.status, 'registering', 'the step is still running');
      assert.equal(doc.steps.register.status, 'in_progress');
    });

    it('stops renewing once the run ended under the attempt (RUN.LEASE_LOST)', () => {
      const held = claimed(newRun(), 'register', 'a', at(0), 1_000);
      const ended = must(
        decideTransition(held, { runId: RUN, to: 'skipped', reason: 'test' }, { now: at(100) })
          .write,
      );
      assert.equal(ended.steps.register.lease?.owner, 'a');
      assert.throws(
        () => renew(ended, 'a', at(200)),
        (error: unknown) => (error as { code?: unknown }).code === 'RUN.LEASE_LOST',
      );
    });

    it('keeps another delivery out for as long as the heartbeat runs', () => {
      const cell = new DocumentCell(claimed(newRun(), 'register', 'a', at(0), 1_000));
      for (let t = 500; t <= 10_000; t += 500) {
        cell.apply((d) => renew(d, 'a', at(t)));
        const other = decideClaimStep(
          cell.doc,
          { runId: RUN, step: 'register', owner: 'b', leaseMs: 1_000 },
          { now: at(t + 900) },
        );
        assert.equal(other.result.kind, 'busy', `at ${t + 900}`);
      }
    });

    it('an expired lease nobody took over is still held: the renew succeeds', () => {
      const held = claimed(newRun(), 'register', 'a', at(0), 1_000);
      const { result } = renew(held, 'a', at(5_000));
      assert.equal(result.expiresAt, at(6_000).toISOString());
    });

    it('after a takeover the old owner gets RUN.LEASE_LOST (retryable) and nothing is written', () => {
      const held = claimed(newRun(), 'register', 'a', at(0), 1_000);
      const taken = claimed(held, 'register', 'b', at(1_000), 1_000);
      assert.equal(taken.steps.register.attempts, 2);
      const error = errorOf(() => renew(taken, 'a', at(1_001)));
      assert.equal(error.code, 'RUN.LEASE_LOST');
      assert.equal(error.retryable, true);
      assert.equal(error.metadata.holder, 'b');
      // The new holder's heartbeat works.
      assert.equal(renew(taken, 'b', at(1_500)).result.expiresAt, at(2_500).toISOString());
    });

    it('refuses a step that is not in progress: released, succeeded, never claimed', () => {
      const held = claimed(newRun(), 'register', 'a', at(0));
      const released = must(
        decideFailStep(
          held,
          {
            runId: RUN,
            step: 'register',
            owner: 'a',
            permanent: false,
            error: { code: 'DEPENDENCY.UNAVAILABLE', message: '503' },
          },
          { now: at(10) },
        ).write,
      );
      assert.equal(errorOf(() => renew(released, 'a', at(20))).code, 'RUN.LEASE_LOST');
      const done = must(
        decideCompleteStep(held, { runId: RUN, step: 'register', owner: 'a' }, { now: at(10) })
          .write,
      );
      assert.equal(errorOf(() => renew(done, 'a', at(20))).code, 'RUN.LEASE_LOST');
      assert.equal(errorOf(() => renew(newRun(), 'a', at(20))).code, 'RUN.LEASE_LOST');
    });

    it('rejects an unknown run with RUN.NOT_FOUND', () => {
      assert.equal(errorOf(() => renew(undefined, 'a', at(0))).code, 'RUN.NOT_FOUND');
    });
  });

  describe('completeStep stamps the next hand-off', () => {
    it('register → deploy and deploy → verify, at the completion time; verify stamps nothing', () => {
      const registered = walk(newRun(), ['register'], { startMs: 100 });
      // claim at 100, complete at 110
      assert.equal(registered.steps.deploy.handOffAt, at(110).toISOString());
      assert.equal(registered.steps.register.handOffAt, undefined);
      assert.equal(registered.steps.verify.handOffAt, undefined);

      const deployed = walk(registered, ['deploy'], { startMs: 200 });
      assert.equal(deployed.steps.verify.handOffAt, at(210).toISOString());
      assert.equal(deployed.steps.deploy.handOffAt, at(110).toISOString(), 'kept');

      const live = walk(deployed, ['verify'], { startMs: 300 });
      assert.equal(live.status, 'live');
      assert.deepEqual(
        (['register', 'deploy', 'verify'] as const).map((s) => live.steps[s].handOffAt),
        [undefined, at(110).toISOString(), at(210).toISOString()],
      );
    });

    it('so a duplicate asking right after the completion finds the hand-off recent', () => {
      const registered = walk(newRun(), ['register'], { startMs: 100 });
      const { write, result } = decideClaimHandOff(registered, handOff('deploy'), {
        now: at(111),
      });
      assert.equal(write, undefined);
      assert.deepEqual(result, {
        kind: 'recent',
        run: registered,
        retryAfter: at(110 + WINDOW).toISOString(),
      });
    });

    it('a repeat completion does not move the stamp', () => {
      const registered = walk(newRun(), ['register'], { startMs: 100 });
      const repeat = decideCompleteStep(
        registered,
        { runId: RUN, step: 'register', owner: 'w' },
        { now: at(5_000) },
      );
      assert.equal(repeat.write, undefined);
      assert.equal(repeat.result.run.steps.deploy.handOffAt, at(110).toISOString());
    });
  });

  describe('decideClaimHandOff', () => {
    it('claims the first hand-off: stamps handOffAt, one history line with the reason', () => {
      const run = newRun();
      const { write, result } = decideClaimHandOff(run, handOff('register', 'reconciler'), {
        now: at(100),
        eventId: 'evt-reconcile',
      });
      const doc = must(write);
      assert.deepEqual(result, { kind: 'claimed', run: doc });
      assert.deepEqual(doc.steps.register, {
        status: 'pending',
        attempts: 0,
        handOffAt: at(100).toISOString(),
      });
      assert.equal(doc.status, 'received');
      assert.deepEqual(doc.history, [
        ...run.history,
        {
          at: at(100).toISOString(),
          from: 'received',
          to: 'received',
          eventId: 'evt-reconcile',
          reason: 'reconciler',
        },
      ]);
      assert.equal(doc.updatedAt, at(100).toISOString());
    });

    it('answers recent, writing nothing, until a full window has passed; then claims again', () => {
      const first = must(decideClaimHandOff(newRun(), handOff('register'), { now: at(100) }).write);
      const justBefore = decideClaimHandOff(first, handOff('register'), {
        now: at(100 + WINDOW - 1),
      });
      assert.equal(justBefore.write, undefined);
      assert.deepEqual(justBefore.result, {
        kind: 'recent',
        run: first,
        retryAfter: at(100 + WINDOW).toISOString(),
      });
      const after = decideClaimHandOff(first, handOff('register'), { now: at(100 + WINDOW) });
      assert.equal(after.result.kind, 'claimed');
      assert.equal(must(after.write).steps.register.handOffAt, at(100 + WINDOW).toISOString());
    });

    it('answers running while an attempt holds an unexpired lease, whatever the window', () => {
      const held = claimed(newRun(), 'register', 'a', at(0), 60_000);
      const { write, result } = decideClaimHandOff(held, handOff('register'), { now: at(30_000) });
      assert.equal(write, undefined);
      assert.deepEqual(result, {
        kind: 'running',
        run: held,
        retryAfter: at(60_000).toISOString(),
      });
    });

    it('claims once the holder died (lease expired, no hand-off for a window)', () => {
      const held = claimed(newRun(), 'register', 'a', at(0), 60_000);
      const { result } = decideClaimHandOff(held, handOff('register'), { now: at(60_000) });
      assert.equal(result.kind, 'claimed');
      assert.equal(result.run.status, 'registering');
    });

    it('answers not_waiting for a finished step, a step not reached yet and an ended run', () => {
      const registered = walk(newRun(), ['register']);
      const cases: [string, RunDocument, StepName][] = [
        ['register succeeded', registered, 'register'],
        ['verify not reached', registered, 'verify'],
        ['deploy not reached', newRun(), 'deploy'],
        [
          'run failed',
          must(
            decideTransition(newRun(), { runId: RUN, to: 'failed' }, { now: at(1) }).write,
            'failed run',
          ),
          'register',
        ],
        [
          'run skipped',
          must(
            decideTransition(registered, { runId: RUN, to: 'skipped' }, { now: at(1) }).write,
            'skipped run',
          ),
          'deploy',
        ],
        ['run live', walk(newRun(), ['register', 'deploy', 'verify']), 'verify'],
      ];
      for (const [name, doc, step] of cases) {
        const decision = decideClaimHandOff(doc, handOff(step), { now: at(1_000_000) });
        assert.equal(decision.result.kind, 'not_waiting', name);
        assert.equal(decision.write, undefined, name);
      }
    });

    it('rejects an unknown run with RUN.NOT_FOUND', () => {
      assert.equal(
        errorOf(() => decideClaimHandOff(undefined, handOff('register'), { now: at(0) })).code,
        'RUN.NOT_FOUND',
      );
    });

    it('property: however many requests arrive, at most one claim per window', () => {
      fc.assert(
        fc.property(
          // Request times (ms after T0), in any order of arrival, and a window.
          fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 60 }),
          fc.integer({ min: 1, max: 30_000 }),
          (times, windowMs) => {
            const sorted = [...times].sort((a, b) => a - b);
            const cell = new DocumentCell(newRun());
            const claims: number[] = [];
            for (const t of sorted) {
              const result = cell.apply((d) =>
                decideClaimHandOff(d, { ...handOff('register'), windowMs }, { now: at(t) }),
              );
              if (result.kind === 'claimed') claims.push(t);
              else assert.equal(result.kind, 'recent');
            }
            // The first request always claims; claims are at least a window apart,
            // and a request a full window after the last claim is never refused.
            assert.equal(claims[0], sorted[0]);
            for (let i = 1; i < claims.length; i += 1) {
              assert.ok((claims[i] ?? 0) - (claims[i - 1] ?? 0) >= windowMs);
            }
            for (const t of sorted) {
              const lastClaim = claims.filter((c) => c <= t).at(-1) ?? -Infinity;
              if (t - lastClaim >= windowMs) assert.fail(`${t} should have claimed`);
            }
            // One history line per claim, nothing for the refusals.
            assert.equal(cell.doc.history.length, 1 + claims.length);
          },
        ),
      );
    });
  });
});
