import assert from 'node:assert/strict';
import {
  RUN_LIMITS,
  boundRejectedEvent,
  decideClaimStep,
  decideCompleteStep,
  decideCreateRun,
  decideFailStep,
  decideTransition,
  resolveListLimit,
  type RunDocument,
  type RunIdentity,
} from '@recdeploy/shared';
import { T0, at, sampleIdentity } from '../../fixtures/runs.js';
import { DocumentCell, errorOf, must, newRun, walk } from './run-decisions.js';

const RUN = 'recs-home-train-001';

/** Every nested value, to check that no `undefined` field is ever written. */
function hasUndefined(value: unknown): boolean {
  if (value === undefined) return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(hasUndefined);
}

describe('run decisions', () => {
  describe('createRun', () => {
    it('creates the run in received, keyed endpoint-trainingRun, with one history entry', () => {
      const { write, result } = decideCreateRun(undefined, sampleIdentity(), {
        now: T0,
        eventId: 'evt-create',
      });
      const doc = must(write);
      assert.equal(result.kind, 'created');
      assert.equal(doc.runId, RUN);
      assert.equal(doc.status, 'received');
      for (const step of ['register', 'deploy', 'verify'] as const) {
        assert.deepEqual(doc.steps[step], { status: 'pending', attempts: 0 });
      }
      assert.deepEqual(doc.history, [
        { at: T0.toISOString(), from: null, to: 'received', eventId: 'evt-create' },
      ]);
      assert.equal(doc.createdAt, T0.toISOString());
      assert.equal(doc.updatedAt, T0.toISOString());
      assert.equal(hasUndefined(doc), false);
    });

    it('answers exists and writes nothing when the run is there', () => {
      const existing = newRun();
      const decision = decideCreateRun(existing, sampleIdentity({ runNumber: 99 }), { now: at(5) });
      assert.deepEqual(decision.result, { kind: 'exists', run: existing });
      assert.equal(decision.write, undefined);
    });

    it('takes only identity fields: a smuggled status is ignored', () => {
      const smuggled = { ...sampleIdentity(), status: 'live' } as RunIdentity;
      assert.equal(
        must(decideCreateRun(undefined, smuggled, { now: T0 }).write).status,
        'received',
      );
    });

    it('stores completedAt in canonical UTC form and refuses one that is not a time', () => {
      const doc = must(
        decideCreateRun(undefined, sampleIdentity({ completedAt: '2030-01-01T02:00:00+02:00' }), {
          now: T0,
        }).write,
      );
      assert.equal(doc.completedAt, '2030-01-01T00:00:00.000Z');
      const error = errorOf(() =>
        decideCreateRun(undefined, sampleIdentity({ completedAt: 'yesterday' }), { now: T0 }),
      );
      assert.equal(error.code, 'EVENT.INVALID');
    });

    it('refuses a document that would outgrow the size bound (RUN.TOO_LARGE)', () => {
      const metrics = Object.fromEntries(
        Array.from({ length: 20_000 }, (_, i) => [`metric_${i}`, i]),
      );
      const error = errorOf(() =>
        decideCreateRun(undefined, sampleIdentity({ metrics }), { now: T0 }),
      );
      assert.equal(error.code, 'RUN.TOO_LARGE');
      assert.equal(error.retryable, false);
    });
  });

  describe('transition', () => {
    it('skips a run with a reason kept as statusReason and in the history', () => {
      const { write, result } = decideTransition(
        newRun(),
        { runId: RUN, to: 'skipped', reason: 'not blessed' },
        { now: at(10), eventId: 'evt-9' },
      );
      const doc = must(write);
      assert.equal(result.changed, true);
      assert.equal(doc.status, 'skipped');
      assert.equal(doc.statusReason, 'not blessed');
      assert.deepEqual(doc.history.at(-1), {
        at: at(10).toISOString(),
        from: 'received',
        to: 'skipped',
        eventId: 'evt-9',
        reason: 'not blessed',
      });
      assert.equal(doc.updatedAt, at(10).toISOString());
    });

    it('a repeated transition is a no-op: no write, the patch not applied again', () => {
      const cell = new DocumentCell(newRun());
      cell.apply((d) => decideTransition(d, { runId: RUN, to: 'skipped' }, { now: at(10) }));
      const again = decideTransition(
        cell.doc,
        { runId: RUN, to: 'skipped', patch: { registry: { model: 'x', version: '1' } } },
        { now: at(20) },
      );
      assert.equal(again.result.changed, false);
      assert.equal(again.write, undefined);
      assert.equal(again.result.run.registry, undefined);
    });

    it('a transition to a status the run already passed is a no-op', () => {
      const cell = new DocumentCell(newRun());
      cell.apply((d) => decideTransition(d, { runId: RUN, to: 'registering' }, { now: at(1) }));
      cell.apply((d) => decideTransition(d, { runId: RUN, to: 'registered' }, { now: at(2) }));
      const decision = decideTransition(
        cell.doc,
        { runId: RUN, to: 'registering' },
        { now: at(3) },
      );
      assert.equal(decision.result.changed, false);
      assert.equal(decision.write, undefined);
    });

    it('refuses an illegal move with RUN.ILLEGAL_TRANSITION naming from and to', () => {
      const error = errorOf(() =>
        decideTransition(newRun(), { runId: RUN, to: 'live' }, { now: at(1) }),
      );
      assert.equal(error.code, 'RUN.ILLEGAL_TRANSITION');
      assert.equal(error.retryable, false);
      assert.deepEqual(error.metadata, { runId: RUN, from: 'received', to: 'live' });
    });

    it('throws RUN.NOT_FOUND for an unknown run', () => {
      const error = errorOf(() =>
        decideTransition(undefined, { runId: 'x', to: 'failed' }, { now: T0 }),
      );
      assert.equal(error.code, 'RUN.NOT_FOUND');
    });

    it('keeps steps consistent on chain moves: running without a lease, then succeeded', () => {
      const cell = new DocumentCell(newRun());
      cell.apply((d) => decideTransition(d, { runId: RUN, to: 'registering' }, { now: at(1) }));
      assert.deepEqual(cell.doc.steps.register, {
        status: 'in_progress',
        attempts: 1,
        startedAt: at(1).toISOString(),
      });
      // Nobody holds it, so a delivery may claim it straight away.
      const claim = decideClaimStep(
        cell.doc,
        { runId: RUN, step: 'register', owner: 'a', leaseMs: 1_000 },
        { now: at(2) },
      );
      assert.equal(claim.result.kind === 'claimed' && claim.result.attempt, 2);
      cell.apply((d) => decideTransition(d, { runId: RUN, to: 'registered' }, { now: at(3) }));
      assert.equal(cell.doc.steps.register.status, 'succeeded');
      assert.equal(cell.doc.steps.register.endedAt, at(3).toISOString());
    });

    it('rolls back a live run', () => {
      const live = walk(newRun(), ['register', 'deploy', 'verify']);
      const { result } = decideTransition(
        live,
        { runId: RUN, to: 'rolled_back', reason: 'operator' },
        { now: at(1_000) },
      );
      assert.equal(result.run.status, 'rolled_back');
      assert.equal(result.run.statusReason, 'operator');
    });

    it('refuses to make a run live: only recordServing does, with what serves', () => {
      const cell = new DocumentCell(newRun());
      for (const to of [
        'registering',
        'registered',
        'deploying',
        'deployed',
        'verifying',
      ] as const) {
        cell.apply((d) => decideTransition(d, { runId: RUN, to }, { now: at(1) }));
      }
      const error = errorOf(() =>
        decideTransition(cell.doc, { runId: RUN, to: 'live' }, { now: at(2) }),
      );
      assert.equal(error.code, 'RUN.ILLEGAL_TRANSITION');
      assert.match(error.message, /only through recordServing/);
    });
  });

  describe('idempotency and bounds', () => {
    it('the same event delivered twice has one effect', () => {
      const cell = new DocumentCell(newRun());
      const deliver = (owner: string, now: Date) => {
        const claim = cell.apply((d) =>
          decideClaimStep(
            d,
            { runId: RUN, step: 'register', owner, leaseMs: 60_000, eventId: 'evt-7' },
            { now, eventId: 'evt-7' },
          ),
        );
        if (claim.kind !== 'claimed') return claim.kind;
        cell.apply((d) =>
          decideCompleteStep(d, { runId: RUN, step: 'register', owner }, { now, eventId: 'evt-7' }),
        );
        return claim.kind;
      };
      assert.equal(deliver('instance-1', at(1_000)), 'claimed');
      const afterFirst = cell.doc;
      assert.equal(deliver('instance-2', at(2_000)), 'done');
      assert.equal(cell.doc, afterFirst, 'the second delivery wrote nothing');
      assert.equal(cell.doc.steps.register.attempts, 1);
      assert.deepEqual(
        cell.doc.history.map((h) => [h.to, h.eventId]),
        [
          ['received', 'evt-create'],
          ['registering', 'evt-7'],
          ['registered', 'evt-7'],
        ],
      );
    });

    it('bounds the history to the first entry plus the newest 49', () => {
      const cell = new DocumentCell(newRun());
      for (let i = 0; i < 120; i += 1) {
        const owner = `o${i}`;
        cell.apply((d) =>
          decideClaimStep(
            d,
            { runId: RUN, step: 'register', owner, leaseMs: 1_000 },
            { now: at(i * 10) },
          ),
        );
        cell.apply((d) =>
          decideFailStep(
            d,
            {
              runId: RUN,
              step: 'register',
              owner,
              permanent: false,
              error: { code: 'X', message: `try ${i}` },
            },
            { now: at(i * 10 + 5), eventId: `evt-${i}` },
          ),
        );
      }
      const history = cell.doc.history;
      assert.equal(history.length, RUN_LIMITS.historyEntries);
      assert.deepEqual(history[0], {
        at: T0.toISOString(),
        from: null,
        to: 'received',
        eventId: 'evt-create',
      });
      assert.match(must(history.at(-1)?.reason), /try 119/);
      assert.equal(history.at(-1)?.eventId, 'evt-119');
      assert.equal(cell.doc.steps.register.attempts, 120);
    });

    it('bounds verification checks and their details', () => {
      const checks = Array.from({ length: 300 }, (_, i) => ({
        name: `c${i}`,
        passed: true,
        detail: 'd'.repeat(5_000),
      }));
      const { write } = decideTransition(
        newRun(),
        { runId: RUN, to: 'skipped', patch: { verification: { checks } } },
        { now: at(1) },
      );
      const verification = must(must(write).verification);
      assert.equal(verification.checks.length, RUN_LIMITS.verificationChecks);
      assert.ok(
        verification.checks.every(
          (c) => (c.detail ?? '').length <= RUN_LIMITS.verificationDetailChars,
        ),
      );
    });

    it('every write stamps updatedAt with the decision time', () => {
      const doc: RunDocument = must(
        decideClaimStep(
          newRun(),
          { runId: RUN, step: 'register', owner: 'a', leaseMs: 5 },
          { now: at(777) },
        ).write,
      );
      assert.equal(doc.updatedAt, at(777).toISOString());
      assert.equal(doc.createdAt, T0.toISOString());
    });
  });

  describe('queries and rejected events', () => {
    it('resolves list limits: default 50, clamped to 1..500', () => {
      assert.deepEqual(
        [undefined, 0, -3, 7.9, 500, 10_000, Number.NaN].map(resolveListLimit),
        [50, 1, 1, 7, 500, 500, 50],
      );
    });

    it('bounds a rejected event and canonicalises its time', () => {
      const event = boundRejectedEvent(
        {
          eventId: 'e1',
          code: 'EVENT.INVALID',
          reason: 'r'.repeat(9_000),
          excerpt: 'x'.repeat(9_000),
          receivedAt: '2030-01-01T01:00:00+01:00',
        },
        T0,
      );
      assert.equal(event.reason.length, 2_000);
      assert.equal(event.excerpt?.length, 2_000);
      assert.equal(event.receivedAt, T0.toISOString());
      const unreadable = boundRejectedEvent(
        { eventId: 'e2', code: 'X', reason: 'r', receivedAt: 'soon' },
        at(5),
      );
      assert.equal(unreadable.receivedAt, at(5).toISOString());
    });
  });
});
