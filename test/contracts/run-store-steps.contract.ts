/**
 * The RunStore contract for a run and its steps (registered by
 * run-store.contract.ts, so every adapter runs it): creating and reading a
 * run, claiming a step, completing and failing it.
 */
import assert from 'node:assert/strict';
import type { RunStore } from '@recdeploy/shared';
import { T0, at, completeAsChain, sampleIdentity } from '../fixtures/runs.js';
import { RUN, rejectsWith, runThroughIn } from './run-store-contract.support.js';

export function runStepsContract(getStore: () => RunStore): void {
  // The store of the current test (the entry's beforeEach made it just before).
  let store: RunStore;
  beforeEach(() => {
    store = getStore();
  });
  const runThrough = (steps: readonly ('register' | 'deploy' | 'verify')[]) =>
    runThroughIn(store, steps);

  describe('createRun and getRun', () => {
    it('creates the run in received and reads back the same document', async () => {
      const created = await store.createRun(sampleIdentity(), { now: T0, eventId: 'evt-create' });
      assert.equal(created.kind, 'created');
      assert.equal(created.run.status, 'received');
      assert.deepEqual(created.run.history, [
        { at: T0.toISOString(), from: null, to: 'received', eventId: 'evt-create' },
      ]);
      assert.deepEqual(await store.getRun(RUN), created.run);
    });

    it('answers exists for a second create and leaves the run untouched', async () => {
      const first = await store.createRun(sampleIdentity(), { now: T0 });
      const second = await store.createRun(sampleIdentity({ runNumber: 7 }), {
        now: at(5),
        eventId: 'x',
      });
      assert.equal(second.kind, 'exists');
      assert.deepEqual(second.run, first.run);
      assert.deepEqual(await store.getRun(RUN), first.run);
    });

    it('answers undefined for an unknown run', async () => {
      assert.equal(await store.getRun('no-such-run'), undefined);
    });

    it('keeps identity fields exactly, completedAt in canonical form', async () => {
      const identity = sampleIdentity({
        completedAt: '2029-12-31T23:59:59.123Z',
        deploymentConfig: { memory: '2Gi', cpu: '1', minInstances: 0, public: false },
        metrics: { recall_at_100: 0.5, ndcg: 0.25 },
      });
      await store.createRun(identity, { now: T0 });
      const run = await store.getRun(RUN);
      assert.equal(run?.completedAt, '2029-12-31T23:59:59.123Z');
      assert.deepEqual(run?.deploymentConfig, identity.deploymentConfig);
      assert.deepEqual(run?.metrics, identity.metrics);
    });
  });

  describe('claimStep', () => {
    beforeEach(async () => {
      await store.createRun(sampleIdentity(), { now: T0 });
    });

    it('claims, then answers busy to another owner, and stores the claim', async () => {
      const claim = await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'a',
        leaseMs: 60_000,
        now: at(1_000),
        eventId: 'evt-1',
      });
      assert.equal(claim.kind === 'claimed' && claim.attempt, 1);
      const busy = await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'b',
        leaseMs: 60_000,
        now: at(2_000),
      });
      assert.equal(busy.kind === 'busy' && busy.leaseExpiresAt, at(61_000).toISOString());
      const stored = await store.getRun(RUN);
      assert.equal(stored?.status, 'registering');
      assert.deepEqual(stored?.steps.register.lease, {
        owner: 'a',
        expiresAt: at(61_000).toISOString(),
      });
      assert.equal(stored?.history.at(-1)?.eventId, 'evt-1');
    });

    it('takes over an expired lease; the old owner then loses it', async () => {
      await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'a',
        leaseMs: 1_000,
        now: at(0),
      });
      const takeover = await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'b',
        leaseMs: 1_000,
        now: at(5_000),
      });
      assert.equal(takeover.kind === 'claimed' && takeover.attempt, 2);
      await rejectsWith(
        store.completeStep({ runId: RUN, step: 'register', owner: 'a', now: at(5_001) }),
        'RUN.LEASE_LOST',
      );
      const done = await store.completeStep({
        runId: RUN,
        step: 'register',
        owner: 'b',
        now: at(5_002),
      });
      assert.equal(done.run.status, 'registered');
      assert.equal((await store.getRun(RUN))?.steps.register.attempts, 2);
    });

    it('answers not_ready before the previous step, done after it, closed once ended', async () => {
      const early = await store.claimStep({
        runId: RUN,
        step: 'deploy',
        owner: 'a',
        leaseMs: 1_000,
        now: at(1),
      });
      assert.equal(early.kind, 'not_ready');
      await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'a',
        leaseMs: 1_000,
        now: at(2),
      });
      await store.completeStep({ runId: RUN, step: 'register', owner: 'a', now: at(3) });
      const dup = await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'b',
        leaseMs: 1_000,
        now: at(4),
      });
      assert.equal(dup.kind, 'done');
      await store.transition({ runId: RUN, to: 'skipped', reason: 'superseded', now: at(5) });
      const late = await store.claimStep({
        runId: RUN,
        step: 'deploy',
        owner: 'a',
        leaseMs: 1_000,
        now: at(6),
      });
      assert.equal(late.kind, 'closed');
    });

    it('rejects an unknown run with RUN.NOT_FOUND', async () => {
      await rejectsWith(
        store.claimStep({ runId: 'nope', step: 'register', owner: 'a', leaseMs: 1 }),
        'RUN.NOT_FOUND',
      );
    });
  });

  describe('completeStep and failStep', () => {
    it('walks a run to live, storing each step patch', async () => {
      await store.createRun(sampleIdentity(), { now: T0 });
      const patches = {
        register: { registry: { model: 'projects/p/models/m', version: '2' } },
        deploy: {
          serving: {
            runtime: 'ann-serving',
            service: 'recs-home',
            revision: 'recs-home-r1',
            tagUrl: 'http://127.0.0.1:1',
          },
        },
        verify: {
          verification: {
            checks: [{ name: 'smoke', passed: true }],
            latencyP50Ms: 4,
            latencyP99Ms: 9,
            recallAtK: { k: 100, recall: 0.97 },
          },
        },
      } as const;
      let t = 0;
      for (const step of ['register', 'deploy', 'verify'] as const) {
        await store.claimStep({
          runId: RUN,
          step,
          owner: 'w',
          leaseMs: 60_000,
          now: at((t += 10)),
        });
        await completeAsChain(store, {
          runId: RUN,
          step,
          owner: 'w',
          patch: patches[step],
          now: at((t += 10)),
        });
      }
      const run = await store.getRun(RUN);
      assert.equal(run?.status, 'live');
      assert.deepEqual(run?.registry, patches.register.registry);
      assert.deepEqual(run?.serving, patches.deploy.serving);
      assert.deepEqual(run?.verification, patches.verify.verification);
      assert.deepEqual(
        run?.history.map((h) => h.to),
        ['received', 'registering', 'registered', 'deploying', 'deployed', 'verifying', 'live'],
      );
    });

    it('a repeat completion changes nothing', async () => {
      const run = await runThrough(['register']);
      const again = await store.completeStep({
        runId: RUN,
        step: 'register',
        owner: 'w',
        now: at(999),
      });
      assert.equal(again.changed, false);
      assert.deepEqual(await store.getRun(RUN), run);
    });

    it('a transient failure releases the step for a retry, keeping the error', async () => {
      await store.createRun(sampleIdentity(), { now: T0 });
      await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'a',
        leaseMs: 60_000,
        now: at(1),
      });
      const failed = await store.failStep({
        runId: RUN,
        step: 'register',
        owner: 'a',
        permanent: false,
        error: { code: 'DEPENDENCY.UNAVAILABLE', message: '503' },
        now: at(2),
      });
      assert.equal(failed.changed, true);
      const stored = await store.getRun(RUN);
      assert.equal(stored?.status, 'registering');
      assert.deepEqual(stored?.steps.register.error, {
        code: 'DEPENDENCY.UNAVAILABLE',
        message: '503',
      });
      assert.equal(stored?.steps.register.lease, undefined);
      const retry = await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'b',
        leaseMs: 60_000,
        now: at(3),
      });
      assert.equal(retry.kind === 'claimed' && retry.attempt, 2);
    });

    it('a permanent failure fails the run with a bounded reason', async () => {
      await store.createRun(sampleIdentity(), { now: T0 });
      await store.claimStep({
        runId: RUN,
        step: 'register',
        owner: 'a',
        leaseMs: 60_000,
        now: at(1),
      });
      await store.failStep({
        runId: RUN,
        step: 'register',
        owner: 'a',
        permanent: true,
        error: { code: 'EVENT.INVALID', message: 'm'.repeat(50_000) },
        now: at(2),
      });
      const stored = await store.getRun(RUN);
      assert.equal(stored?.status, 'failed');
      assert.ok(
        (stored?.statusReason?.length ?? 0) > 0 && (stored?.statusReason?.length ?? 0) <= 2_000,
      );
      assert.equal(stored?.steps.register.error?.message.length, 2_000);
      assert.equal(stored?.steps.register.status, 'failed');
    });
  });
}
