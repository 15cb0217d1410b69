/**
 * The RunStore contract: one suite, written against the port only, that every
 * adapter runs (SQLite files always, Firestore where an emulator is reachable).
 * Times are passed explicitly (`now`) except in the watch tests, which use the
 * store's own clock as a dashboard would.
 */
import assert from 'node:assert/strict';
import type { RunChange, RunDocument, RunStore } from '@recdeploy/shared';
import { T0, at, sampleIdentity } from '../fixtures/runs.js';

/** A store under test and how to dispose of it. */
export interface StoreUnderTest {
  readonly store: RunStore;
  readonly cleanup: () => Promise<void>;
}

/** What an adapter's test environment needs from the suite. */
export interface ContractOptions {
  /**
   * How long the watch tests wait between watch() and their first write.
   * Zero for a store that keeps the promise for writes racing the call. The
   * Firestore emulator does not: a listener whose registration overlaps a
   * commit can miss that document for good (measured with the raw client, two
   * listeners per write: 4 of 300 writes within ~10 ms of onSnapshot were never
   * delivered to one of them, its first snapshot empty with a read time after
   * the commit). Real Firestore serves a listener a consistent snapshot at its
   * read time, so that race is the emulator's, and the suite waits it out.
   */
  readonly watchSettleMs?: number;
}

const RUN = 'recs-home-train-001';

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  });
}

/**
 * How long a watch may take to deliver. Generous because the Firestore
 * emulator (a JVM) was once seen to take more than 5 s under a loaded full run
 * in CI, while it delivers in milliseconds when run alone.
 */
const WATCH_WAIT_MS = 15_000;

/** Polls `check` until it passes or `ms` run out (watch delivery is asynchronous). */
async function eventually(check: () => void, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Registers the contract suite for one adapter. */
export function runStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  options: ContractOptions = {},
): void {
  const settleWatch = (): Promise<void> =>
    new Promise((resolve) => setTimeout(resolve, options.watchSettleMs ?? 0));
  describe(`RunStore contract: ${name}`, function () {
    let store: RunStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    /** Creates the sample run and claims + completes `steps` in order. */
    async function runThrough(
      steps: readonly ('register' | 'deploy' | 'verify')[],
    ): Promise<RunDocument> {
      let run = (await store.createRun(sampleIdentity(), { now: T0, eventId: 'evt-create' })).run;
      let t = 0;
      for (const step of steps) {
        const claim = await store.claimStep({
          runId: RUN,
          step,
          owner: 'w',
          leaseMs: 60_000,
          now: at((t += 10)),
        });
        assert.equal(claim.kind, 'claimed', step);
        run = (await store.completeStep({ runId: RUN, step, owner: 'w', now: at((t += 10)) })).run;
      }
      return run;
    }

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
          await store.completeStep({
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

    describe('transition', () => {
      it('applies a legal move once; the repeat is a no-op', async () => {
        await store.createRun(sampleIdentity(), { now: T0 });
        const first = await store.transition({
          runId: RUN,
          to: 'skipped',
          reason: 'not blessed',
          now: at(1),
          eventId: 'e1',
        });
        assert.equal(first.changed, true);
        const second = await store.transition({
          runId: RUN,
          to: 'skipped',
          reason: 'again',
          now: at(2),
          eventId: 'e2',
        });
        assert.equal(second.changed, false);
        const stored = await store.getRun(RUN);
        assert.equal(stored?.statusReason, 'not blessed');
        assert.equal(stored?.updatedAt, at(1).toISOString());
        assert.equal(stored?.history.length, 2);
      });

      it('rejects an illegal move with RUN.ILLEGAL_TRANSITION and leaves the run', async () => {
        await store.createRun(sampleIdentity(), { now: T0 });
        await rejectsWith(
          store.transition({ runId: RUN, to: 'rolled_back', now: at(1) }),
          'RUN.ILLEGAL_TRANSITION',
        );
        assert.equal((await store.getRun(RUN))?.status, 'received');
      });

      it('rolls back a live run', async () => {
        await runThrough(['register', 'deploy', 'verify']);
        const result = await store.transition({
          runId: RUN,
          to: 'rolled_back',
          reason: 'operator',
          now: at(1_000),
        });
        assert.equal(result.run.status, 'rolled_back');
        assert.equal((await store.getRun(RUN))?.status, 'rolled_back');
      });

      it('rejects an unknown run with RUN.NOT_FOUND', async () => {
        await rejectsWith(store.transition({ runId: 'nope', to: 'failed' }), 'RUN.NOT_FOUND');
      });
    });

    describe('listRuns', () => {
      beforeEach(async () => {
        // Four runs on two endpoints; created in order, so updatedAt grows with i.
        const specs = [
          { trainingRunId: 't0', modelEndpointId: 'ep-a' },
          { trainingRunId: 't1', modelEndpointId: 'ep-b' },
          { trainingRunId: 't2', modelEndpointId: 'ep-a' },
          { trainingRunId: 't3', modelEndpointId: 'ep-b' },
        ];
        for (const [i, spec] of specs.entries()) {
          await store.createRun(sampleIdentity(spec), { now: at(i * 1_000) });
        }
        await store.transition({ runId: 'ep-a-t0', to: 'skipped', now: at(10_000) });
      });

      it('lists newest updatedAt first', async () => {
        const runs = await store.listRuns();
        assert.deepEqual(
          runs.map((r) => r.runId),
          ['ep-a-t0', 'ep-b-t3', 'ep-a-t2', 'ep-b-t1'],
        );
      });

      it('filters by status, by endpoint, and by both', async () => {
        assert.deepEqual(
          (await store.listRuns({ status: 'skipped' })).map((r) => r.runId),
          ['ep-a-t0'],
        );
        assert.deepEqual(
          (await store.listRuns({ modelEndpointId: 'ep-b' })).map((r) => r.runId),
          ['ep-b-t3', 'ep-b-t1'],
        );
        assert.deepEqual(
          (await store.listRuns({ modelEndpointId: 'ep-a', status: 'received' })).map(
            (r) => r.runId,
          ),
          ['ep-a-t2'],
        );
        assert.deepEqual(await store.listRuns({ status: 'live' }), []);
      });

      it('honours the limit', async () => {
        assert.deepEqual(
          (await store.listRuns({ limit: 2 })).map((r) => r.runId),
          ['ep-a-t0', 'ep-b-t3'],
        );
      });
    });

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

    describe('rejected events', () => {
      it('lists them newest first, keeps the first record of a repeat, bounds the text', async () => {
        const base = { code: 'EVENT.INVALID', reason: 'bad json' };
        await store.recordRejectedEvent({
          ...base,
          eventId: 'e1',
          receivedAt: at(1).toISOString(),
        });
        await store.recordRejectedEvent({
          ...base,
          eventId: 'e2',
          receivedAt: at(2).toISOString(),
          source: 'training-completed',
          excerpt: '{"x":',
        });
        await store.recordRejectedEvent({
          ...base,
          eventId: 'e1',
          reason: 'again',
          receivedAt: at(3).toISOString(),
        });
        await store.recordRejectedEvent({
          ...base,
          eventId: 'e3',
          reason: 'r'.repeat(10_000),
          receivedAt: at(4).toISOString(),
        });
        const events = await store.listRejectedEvents();
        assert.deepEqual(
          events.map((e) => e.eventId),
          ['e3', 'e2', 'e1'],
        );
        assert.equal(events[0]?.reason.length, 2_000);
        assert.deepEqual(events[1], {
          ...base,
          eventId: 'e2',
          receivedAt: at(2).toISOString(),
          source: 'training-completed',
          excerpt: '{"x":',
        });
        assert.equal(events[2]?.reason, 'bad json');
        assert.deepEqual(
          (await store.listRejectedEvents(1)).map((e) => e.eventId),
          ['e3'],
        );
      });
    });

    describe('watch', () => {
      it('delivers changes made after the call, not before, until unsubscribed', async () => {
        await store.createRun(sampleIdentity({ trainingRunId: 'before' }));
        await new Promise((resolve) => setTimeout(resolve, 10));
        const seen: RunChange[] = [];
        const unsubscribe = store.watch((change) => seen.push(change));
        await settleWatch();
        await store.createRun(sampleIdentity());
        await store.claimStep({ runId: RUN, step: 'register', owner: 'a', leaseMs: 60_000 });
        await store.completeStep({ runId: RUN, step: 'register', owner: 'a' });
        await eventually(() => assert.equal(seen.at(-1)?.run.status, 'registered'), WATCH_WAIT_MS);
        assert.ok(
          seen.every((c) => c.run.runId === RUN),
          'the run written before watch() is not delivered',
        );
        const statuses = seen.map((c) => c.run.status);
        assert.deepEqual(statuses, [...statuses].sort(byChain), 'in commit order');

        unsubscribe();
        const count = seen.length;
        await store.transition({ runId: RUN, to: 'skipped' });
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal(seen.length, count, 'nothing after unsubscribe');
      });

      it('delivers to several watchers independently', async () => {
        const first: string[] = [];
        const second: string[] = [];
        const stopFirst = store.watch((c) => first.push(c.run.status));
        const stopSecond = store.watch((c) => second.push(c.run.status));
        await settleWatch();
        await store.createRun(sampleIdentity());
        await eventually(() => {
          assert.deepEqual(first, ['received']);
          assert.deepEqual(second, ['received']);
        }, WATCH_WAIT_MS);
        stopFirst();
        stopSecond();
      });
    });
  });
}

const CHAIN = ['received', 'registering', 'registered'];
function byChain(a: string, b: string): number {
  return CHAIN.indexOf(a) - CHAIN.indexOf(b);
}
