/**
 * The RunStore contract for leases (registered by run-store.contract.ts, so
 * every adapter runs it): the service lease, a step's lease renewed by its
 * heartbeat, and the hand-off claim that lets one delivery re-drive a step.
 */
import assert from 'node:assert/strict';
import type { RunStore, StepName } from '@recdeploy/shared';
import { T0, at, sampleIdentity } from '../fixtures/runs.js';
import { RUN, rejectsWith, runThroughIn } from './run-store-contract.support.js';

export function leasesContract(getStore: () => RunStore): void {
  // The store of the current test (the entry's beforeEach made it just before).
  let store: RunStore;
  beforeEach(() => {
    store = getStore();
  });
  const runThrough = (steps: readonly ('register' | 'deploy' | 'verify')[]) =>
    runThroughIn(store, steps);

  describe('service lease', () => {
    const lease = { service: 'recs-home', ttlMs: 60_000 };

    it('is re-entrant for its holder and refuses another run', async () => {
      assert.equal(
        (await store.acquireServiceLease({ ...lease, runId: 'a', now: at(0) })).acquired,
        true,
      );
      const again = await store.acquireServiceLease({ ...lease, runId: 'a', now: at(10_000) });
      assert.deepEqual(again, { acquired: true, expiresAt: at(70_000).toISOString() });
      const other = await store.acquireServiceLease({ ...lease, runId: 'b', now: at(20_000) });
      assert.deepEqual(other, {
        acquired: false,
        holder: 'a',
        expiresAt: at(70_000).toISOString(),
      });
    });

    it('lets another run take an expired lease', async () => {
      await store.acquireServiceLease({ ...lease, runId: 'a', now: at(0) });
      const taken = await store.acquireServiceLease({ ...lease, runId: 'b', now: at(60_000) });
      assert.equal(taken.acquired, true);
      const back = await store.acquireServiceLease({ ...lease, runId: 'a', now: at(60_001) });
      assert.equal(back.acquired === false && back.holder, 'b');
    });

    it('is released by its holder only', async () => {
      await store.acquireServiceLease({ ...lease, runId: 'a', now: at(0) });
      await store.releaseServiceLease('recs-home', 'b');
      assert.equal(
        (await store.acquireServiceLease({ ...lease, runId: 'b', now: at(1) })).acquired,
        false,
      );
      await store.releaseServiceLease('recs-home', 'a');
      assert.equal(
        (await store.acquireServiceLease({ ...lease, runId: 'b', now: at(2) })).acquired,
        true,
      );
    });

    it('keeps services apart', async () => {
      await store.acquireServiceLease({ ...lease, runId: 'a', now: at(0) });
      const other = await store.acquireServiceLease({
        service: 'recs-cart',
        ttlMs: 1_000,
        runId: 'b',
        now: at(1),
      });
      assert.equal(other.acquired, true);
    });
  });

  describe('renewStepLease (heartbeat)', () => {
    beforeEach(async () => {
      await store.createRun(sampleIdentity(), { now: T0 });
      await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'a',
        leaseMs: 1_000,
        now: at(0),
      });
    });

    it('extends the lease, so another delivery finds the step busy past the first expiry', async () => {
      const before = await store.getRun(RUN);
      const renewed = await store.renewStepLease({
        runId: RUN,
        step: 'register',
        owner: 'a',
        leaseMs: 1_000,
        now: at(800),
      });
      assert.deepEqual(renewed, { expiresAt: at(1_800).toISOString() });
      const stored = await store.getRun(RUN);
      assert.deepEqual(stored?.steps.register.lease, {
        owner: 'a',
        expiresAt: at(1_800).toISOString(),
      });
      assert.deepEqual(stored?.history, before?.history, 'a heartbeat adds no history');
      const other = await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'b',
        leaseMs: 1_000,
        now: at(1_500),
      });
      assert.equal(other.kind === 'busy' && other.leaseExpiresAt, at(1_800).toISOString());
    });

    it('after a takeover past expiry, the old owner renews with RUN.LEASE_LOST', async () => {
      const takeover = await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'b',
        leaseMs: 1_000,
        now: at(1_000),
      });
      assert.equal(takeover.kind === 'claimed' && takeover.attempt, 2);
      await assert.rejects(
        store.renewStepLease({
          runId: RUN,
          step: 'register',
          owner: 'a',
          leaseMs: 1_000,
          now: at(1_001),
        }),
        { code: 'RUN.LEASE_LOST', retryable: true },
      );
      const stored = await store.getRun(RUN);
      assert.deepEqual(stored?.steps.register.lease, {
        owner: 'b',
        expiresAt: at(2_000).toISOString(),
      });
      assert.deepEqual(
        await store.renewStepLease({
          runId: RUN,
          step: 'register',
          owner: 'b',
          leaseMs: 1_000,
          now: at(1_500),
        }),
        { expiresAt: at(2_500).toISOString() },
      );
    });

    it('refuses an owner that never held the step, and an unknown run', async () => {
      await rejectsWith(
        store.renewStepLease({
          runId: RUN,
          step: 'register',
          owner: 'x',
          leaseMs: 1,
          now: at(1),
        }),
        'RUN.LEASE_LOST',
      );
      await rejectsWith(
        store.renewStepLease({ runId: RUN, step: 'deploy', owner: 'a', leaseMs: 1, now: at(1) }),
        'RUN.LEASE_LOST',
      );
      await rejectsWith(
        store.renewStepLease({ runId: 'nope', step: 'register', owner: 'a', leaseMs: 1 }),
        'RUN.NOT_FOUND',
      );
    });
  });

  describe('claimHandOff', () => {
    const WINDOW = 10_000;
    const handOff = (step: StepName, ms: number, reason = 'duplicate delivery') =>
      store.claimHandOff({ runId: RUN, step, windowMs: WINDOW, reason, now: at(ms) });

    it('claims, answers recent within the window, and claims again after it', async () => {
      await store.createRun(sampleIdentity(), { now: T0 });
      const first = await handOff('register', 100, 'reconciler');
      assert.equal(first.kind, 'claimed');
      const stored = await store.getRun(RUN);
      assert.deepEqual(first.run, stored);
      assert.equal(stored?.steps.register.handOffAt, at(100).toISOString());
      assert.deepEqual(
        [stored?.history.at(-1)?.to, stored?.history.at(-1)?.reason],
        ['received', 'reconciler'],
      );

      const recent = await handOff('register', 100 + WINDOW - 1);
      assert.deepEqual(
        { kind: recent.kind, retryAfter: recent.kind === 'recent' && recent.retryAfter },
        { kind: 'recent', retryAfter: at(100 + WINDOW).toISOString() },
      );
      assert.deepEqual(await store.getRun(RUN), stored, 'recent writes nothing');

      const again = await handOff('register', 100 + WINDOW);
      assert.equal(again.kind, 'claimed');
      assert.equal(
        (await store.getRun(RUN))?.steps.register.handOffAt,
        at(100 + WINDOW).toISOString(),
      );
    });

    it('answers running while a lease is unexpired, and claims once it lapsed', async () => {
      await store.createRun(sampleIdentity(), { now: T0 });
      await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'a',
        leaseMs: 60_000,
        now: at(1_000),
      });
      const running = await handOff('register', 30_000);
      assert.equal(running.kind === 'running' && running.retryAfter, at(61_000).toISOString());
      const lapsed = await handOff('register', 61_000);
      assert.equal(lapsed.kind, 'claimed');
    });

    it('completeStep stamps the next hand-off: an immediate claim is recent, one window later claimed', async () => {
      await runThrough(['register']); // register completed at T0 + 20 ms
      const stored = await store.getRun(RUN);
      assert.equal(stored?.steps.deploy.handOffAt, at(20).toISOString());
      const recent = await handOff('deploy', 21);
      assert.equal(recent.kind === 'recent' && recent.retryAfter, at(20 + WINDOW).toISOString());
      assert.equal((await handOff('deploy', 20 + WINDOW)).kind, 'claimed');
    });

    it('answers not_waiting for a finished step, a step not reached, an ended run', async () => {
      await runThrough(['register']);
      assert.equal((await handOff('register', 1_000_000)).kind, 'not_waiting');
      assert.equal((await handOff('verify', 1_000_000)).kind, 'not_waiting');
      await store.transition({ runId: RUN, to: 'skipped', reason: 'superseded', now: at(100) });
      assert.equal((await handOff('deploy', 1_000_000)).kind, 'not_waiting');
      await rejectsWith(
        store.claimHandOff({ runId: 'nope', step: 'register', windowMs: 1, reason: 'r' }),
        'RUN.NOT_FOUND',
      );
    });

    it('50 concurrent claims of one hand-off: exactly one is claimed', async function () {
      this.timeout(120_000);
      await store.createRun(sampleIdentity(), { now: T0, eventId: 'evt-create' });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store
            .claimHandOff({
              runId: RUN,
              step: 'register',
              windowMs: 60_000,
              reason: `delivery ${i}`,
              now: at(1_000 + i),
            })
            .then(
              (result) => result.kind,
              (error: unknown) => `error:${String((error as { code?: unknown }).code)}`,
            ),
        ),
      );
      assert.equal(results.filter((k) => k === 'claimed').length, 1, results.join());
      assert.ok(
        results.every((k) => k === 'claimed' || k === 'recent'),
        results.join(),
      );
      const stored = await store.getRun(RUN);
      assert.equal(stored?.history.length, 2, 'one hand-off line');
    });
  });
}
