/**
 * The RunStore contract: one suite, written against the port only, that every
 * adapter runs (SQLite files always, Firestore where an emulator is reachable).
 * Times are passed explicitly (`now`) except in the watch tests, which use the
 * store's own clock as a dashboard would.
 */
import assert from 'node:assert/strict';
import type {
  RunChange,
  RunDocument,
  RunIdentity,
  RunPatch,
  RunStore,
  StepName,
} from '@recdeploy/shared';
import {
  T0,
  at,
  completeAsChain,
  deployedTo,
  observedTraffic,
  registeredAs,
  sampleIdentity,
} from '../fixtures/runs.js';
import { canaryContract } from './run-store-canary.contract.js';
import { rejectedEventsContract } from './run-store-rejected.contract.js';
import { freshnessAlertsContract } from './run-store-freshness.contract.js';

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
const STEPS = ['register', 'deploy', 'verify'] as const;

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
        run = (await completeAsChain(store, { runId: RUN, step, owner: 'w', now: at((t += 10)) }))
          .run;
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

    /**
     * Creates a run of `identity` at T0 + startMs and claims and completes
     * `steps` in order, 10 ms apart, with the register and deploy patches a
     * real chain reports (a registry version, a revision of `service`).
     */
    async function walkRun(
      identity: RunIdentity,
      steps: readonly StepName[],
      options: {
        readonly startMs?: number;
        readonly revision?: string;
        readonly service?: string;
      } = {},
    ): Promise<RunDocument> {
      let t = options.startMs ?? 0;
      let run = (await store.createRun(identity, { now: at(t) })).run;
      const patches: Partial<Record<StepName, RunPatch>> = {
        register: registeredAs(identity.runNumber),
        deploy: deployedTo(
          options.service ?? 'recs-home',
          options.revision ?? `recs-home-${identity.trainingRunId}`,
        ),
      };
      for (const step of steps) {
        const claim = await store.claimStep({
          runId: run.runId,
          step,
          owner: 'w',
          leaseMs: 60_000,
          now: at((t += 10)),
        });
        assert.equal(claim.kind, 'claimed', `${run.runId} ${step}`);
        const patch = patches[step];
        run = (
          await completeAsChain(store, {
            runId: run.runId,
            step,
            owner: 'w',
            now: at((t += 10)),
            ...(patch === undefined ? {} : { patch }),
          })
        ).run;
      }
      return run;
    }

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

    describe('recordServing and the serving record', () => {
      const SERVICE = 'recs-home';
      const REV_A = 'recs-home-00001-a';
      const REV_B = 'recs-home-00002-b';
      const A = 'recs-home-train-a';
      const B = 'recs-home-train-b';
      const serve = (shares: Record<string, number>, cause: string, ms: number) =>
        store.recordServing({
          service: SERVICE,
          modelEndpointId: 'recs-home',
          observed: observedTraffic(SERVICE, shares),
          cause,
          now: at(ms),
        });
      const liveIds = async () =>
        (await store.listRuns({ modelEndpointId: 'recs-home', status: 'live' })).map(
          (run) => run.runId,
        );

      /** A live on REV_A and recorded as serving; B (newer) deployed on REV_B, verify claimed by 'verifier'. */
      async function aLiveBVerifying(): Promise<void> {
        await walkRun(sampleIdentity({ trainingRunId: 'train-a', runNumber: 1 }), STEPS, {
          revision: REV_A,
        });
        await serve({ [REV_A]: 100 }, 'observed', 1_000);
        await walkRun(
          sampleIdentity({ trainingRunId: 'train-b', runNumber: 2 }),
          ['register', 'deploy'],
          { revision: REV_B, startMs: 2_000 },
        );
        const claim = await store.claimStep({
          runId: B,
          step: 'verify',
          owner: 'verifier',
          leaseMs: 60_000,
          now: at(3_000),
        });
        assert.equal(claim.kind, 'claimed');
      }

      /** Verify of B completes with B observed at 100%, in one recordServing. */
      const promoteB = (ms: number) =>
        store.recordServing({
          service: SERVICE,
          modelEndpointId: 'recs-home',
          observed: observedTraffic(SERVICE, { [REV_B]: 100 }),
          cause: 'promote after verification',
          complete: {
            runId: B,
            step: 'verify',
            owner: 'verifier',
            patch: { verification: { checks: [{ name: 'smoke', passed: true }] } },
          },
          now: at(ms),
          eventId: 'evt-verify-b',
        });

      it('going live writes the first record; getServingRecord reads it back', async () => {
        const live = await walkRun(
          sampleIdentity({ trainingRunId: 'train-a', runNumber: 1 }),
          STEPS,
          {
            revision: REV_A,
          },
        );
        assert.equal(live.status, 'live');
        const expected = {
          service: SERVICE,
          modelEndpointId: 'recs-home',
          serviceUrl: `https://${SERVICE}.example.run.app`,
          liveRevision: REV_A,
          liveRunId: A,
          traffic: [{ revision: REV_A, percent: 100, runId: A }],
          since: live.updatedAt,
          cause: 'test: verified and promoted',
          observedAt: live.updatedAt,
        };
        assert.deepEqual(await store.getServingRecord(SERVICE), expected);
        const result = await serve({ [REV_A]: 100 }, 'start-up observation', 1_000);
        assert.deepEqual(result.record, expected, 'the same observation writes nothing');
        assert.deepEqual(result.changedRuns, []);
        assert.deepEqual(await store.getServingRecord(SERVICE), expected);
      });

      it("promotion with verify's completion: B live, A replaced by B, record moves on", async () => {
        await aLiveBVerifying();
        const result = await promoteB(4_000);

        assert.deepEqual(await liveIds(), [B]);
        const a = await store.getRun(A);
        assert.equal(a?.status, 'replaced');
        assert.equal(a?.replacedBy, B);
        assert.deepEqual(
          [a?.history.at(-1)?.from, a?.history.at(-1)?.to, a?.history.at(-1)?.eventId],
          ['live', 'replaced', 'evt-verify-b'],
        );
        const b = await store.getRun(B);
        assert.equal(b?.status, 'live');
        assert.equal(b?.steps.verify.status, 'succeeded');
        assert.deepEqual(b?.verification, { checks: [{ name: 'smoke', passed: true }] });

        const record = await store.getServingRecord(SERVICE);
        assert.equal(record?.liveRunId, B);
        assert.equal(record?.liveRevision, REV_B);
        assert.equal(record?.since, at(4_000).toISOString());
        assert.deepEqual(record?.previous, {
          revision: REV_A,
          runId: A,
          until: at(4_000).toISOString(),
        });
        assert.deepEqual(result.record, record);
        assert.deepEqual(
          [...result.changedRuns].sort((x, y) => (x.runId < y.runId ? -1 : 1)),
          [a, b],
          'the changed runs, as stored',
        );
      });

      it('then a rollback observed: A live again, B rolled_back', async () => {
        await aLiveBVerifying();
        await promoteB(4_000);
        await serve({ [REV_A]: 100 }, 'rollback by alice', 5_000);
        assert.deepEqual(await liveIds(), [A]);
        const a = await store.getRun(A);
        assert.equal(a?.replacedBy, undefined);
        assert.equal(a?.statusReason, undefined);
        const b = await store.getRun(B);
        assert.equal(b?.status, 'rolled_back');
        assert.equal(b?.replacedBy, undefined);
        const record = await store.getServingRecord(SERVICE);
        assert.equal(record?.liveRunId, A);
        assert.deepEqual(record?.previous, {
          revision: REV_B,
          runId: B,
          until: at(5_000).toISOString(),
        });
      });

      it('an observed revision no run deployed demotes the live run to rolled_back', async () => {
        await aLiveBVerifying();
        const result = await serve({ 'recs-home-00009-by-hand': 100 }, 'reconciler', 5_000);
        assert.deepEqual(await liveIds(), []);
        assert.equal((await store.getRun(A))?.status, 'rolled_back');
        assert.equal((await store.getRun(B))?.status, 'verifying', 'not live: untouched');
        assert.deepEqual(
          result.changedRuns.map((run) => run.runId),
          [A],
        );
        const record = await store.getServingRecord(SERVICE);
        assert.equal(record?.liveRevision, 'recs-home-00009-by-hand');
        assert.equal(record?.liveRunId, undefined);
        assert.deepEqual(record?.traffic, [{ revision: 'recs-home-00009-by-hand', percent: 100 }]);
      });

      it('a repeat observation writes nothing: runs and record (observedAt too) unchanged', async () => {
        await aLiveBVerifying();
        await promoteB(4_000);
        const before = {
          a: await store.getRun(A),
          b: await store.getRun(B),
          record: await store.getServingRecord(SERVICE),
        };
        const result = await serve({ [REV_B]: 100 }, 'reconciler', 60_000);
        assert.deepEqual(result.changedRuns, []);
        assert.deepEqual(result.record, before.record);
        assert.deepEqual(await store.getRun(A), before.a);
        assert.deepEqual(await store.getRun(B), before.b);
        // The record holds the last change: a repeat does not restamp observedAt.
        assert.deepEqual(await store.getServingRecord(SERVICE), before.record);
        assert.equal(before.record?.observedAt, at(4_000).toISOString());
      });

      it('a canary split keeps the live run and lists both shares', async () => {
        await aLiveBVerifying();
        const result = await store.recordServing({
          service: SERVICE,
          modelEndpointId: 'recs-home',
          observed: observedTraffic(
            SERVICE,
            { [REV_B]: 10, [REV_A]: 90 },
            { tags: { [REV_B]: 'candidate' } },
          ),
          cause: 'canary 10%',
          now: at(5_000),
        });
        assert.deepEqual(result.changedRuns, []);
        assert.deepEqual(await liveIds(), [A]);
        const record = await store.getServingRecord(SERVICE);
        assert.deepEqual(record?.traffic, [
          { revision: REV_A, percent: 90, runId: A },
          { revision: REV_B, percent: 10, runId: B, tag: 'candidate' },
        ]);
        const wentLive = (await store.getRun(A))?.history.find((h) => h.to === 'live')?.at;
        assert.equal(record?.since, wentLive, 'A serves since it went live');
      });

      it("refuses verify's completion while the platform does not show it serving, writing nothing", async () => {
        await aLiveBVerifying();
        const before = {
          a: await store.getRun(A),
          b: await store.getRun(B),
          record: await store.getServingRecord(SERVICE),
        };
        await assert.rejects(
          store.recordServing({
            service: SERVICE,
            modelEndpointId: 'recs-home',
            observed: observedTraffic(SERVICE, { [REV_A]: 100 }),
            cause: 'promote',
            complete: { runId: B, step: 'verify', owner: 'verifier' },
            now: at(4_000),
          }),
          { code: 'PLATFORM.CONFLICT', retryable: true },
        );
        assert.deepEqual(await store.getRun(A), before.a);
        assert.deepEqual(await store.getRun(B), before.b);
        assert.deepEqual(await store.getServingRecord(SERVICE), before.record);
      });

      it("refuses verify's completion by an owner that lost the step, writing nothing", async () => {
        await aLiveBVerifying();
        const before = await store.getServingRecord(SERVICE);
        await rejectsWith(
          store.recordServing({
            service: SERVICE,
            modelEndpointId: 'recs-home',
            observed: observedTraffic(SERVICE, { [REV_B]: 100 }),
            cause: 'promote',
            complete: { runId: B, step: 'verify', owner: 'someone-else' },
            now: at(4_000),
          }),
          'RUN.LEASE_LOST',
        );
        assert.deepEqual(await liveIds(), [A]);
        assert.equal((await store.getRun(B))?.status, 'verifying');
        assert.deepEqual(await store.getServingRecord(SERVICE), before);
      });

      it('listServingRecords lists one record per service, by service name', async () => {
        assert.deepEqual(await store.listServingRecords(), []);
        await walkRun(sampleIdentity({ trainingRunId: 'train-a', runNumber: 1 }), STEPS, {
          revision: REV_A,
        });
        await walkRun(
          sampleIdentity({ modelEndpointId: 'recs-cart', trainingRunId: 'train-c' }),
          STEPS,
          { service: 'recs-cart', revision: 'recs-cart-00001', startMs: 100 },
        );
        await serve({ [REV_A]: 100 }, 'observed', 1_000);
        await store.recordServing({
          service: 'recs-cart',
          modelEndpointId: 'recs-cart',
          observed: observedTraffic('recs-cart', { 'recs-cart-00001': 100 }),
          cause: 'observed',
          now: at(1_000),
        });
        await serve({ [REV_A]: 100 }, 'observed again', 2_000);
        const records = await store.listServingRecords();
        assert.deepEqual(
          records.map((r) => [r.service, r.liveRunId]),
          [
            ['recs-cart', 'recs-cart-train-c'],
            ['recs-home', A],
          ],
        );
        assert.deepEqual(records[1], await store.getServingRecord('recs-home'));
        assert.deepEqual(await liveIds(), [A], 'the other endpoint is not touched');
      });
    });

    canaryContract(() => store);

    describe('retryRun and requestDeploy', () => {
      /** The sample run failed permanently in `step` (the steps before it succeeded). */
      async function failedIn(step: StepName): Promise<RunDocument> {
        const before = {
          register: [],
          deploy: ['register'],
          verify: ['register', 'deploy'],
        } as const;
        await walkRun(sampleIdentity(), before[step]);
        await store.claimStep({ runId: RUN, step, owner: 'a', leaseMs: 60_000, now: at(900) });
        return (
          await store.failStep({
            runId: RUN,
            step,
            owner: 'a',
            permanent: true,
            error: { code: 'ARTIFACT.NOT_FOUND', message: `${step} broke` },
            now: at(1_000),
          })
        ).run;
      }

      it('retries a run that failed in register, with a corrected artifact', async () => {
        await failedIn('register');
        const uri = 'gs://models/recs-home/1-fixed/pushed_model';
        const reopened = await store.retryRun({
          runId: RUN,
          requestedBy: 'alice',
          artifactUri: uri,
          now: at(5_000),
          eventId: 'cli-retry',
        });
        assert.equal(reopened.step, 'register');
        const stored = await store.getRun(RUN);
        assert.deepEqual(reopened.run, stored);
        assert.equal(stored?.status, 'received');
        assert.equal(stored?.statusReason, undefined);
        assert.equal(stored?.artifactUri, uri);
        assert.deepEqual(stored?.steps.register, {
          status: 'pending',
          attempts: 1,
          startedAt: at(900).toISOString(),
          handOffAt: at(5_000).toISOString(),
        });
        assert.equal(
          (
            await store.claimHandOff({
              runId: RUN,
              step: 'register',
              windowMs: 10_000,
              reason: 'dup',
              now: at(5_001),
            })
          ).kind,
          'recent',
        );
        const claim = await store.claimStep({
          runId: RUN,
          step: 'register',
          owner: 'b',
          leaseMs: 60_000,
          now: at(5_002),
        });
        assert.equal(claim.kind === 'claimed' && claim.attempt, 2);
      });

      it('retries a run that failed in deploy at registered; refuses a new artifact then', async () => {
        await failedIn('deploy');
        await rejectsWith(
          store.retryRun({
            runId: RUN,
            requestedBy: 'alice',
            artifactUri: 'gs://x/y',
            now: at(2_000),
          }),
          'RUN.NOT_RETRYABLE',
        );
        assert.equal((await store.getRun(RUN))?.status, 'failed', 'a refusal writes nothing');
        const reopened = await store.retryRun({ runId: RUN, requestedBy: 'alice', now: at(3_000) });
        assert.equal(reopened.step, 'deploy');
        assert.equal((await store.getRun(RUN))?.status, 'registered');
      });

      it('refuses to retry a run that did not fail, and an unknown run', async () => {
        await walkRun(sampleIdentity(), STEPS);
        await rejectsWith(
          store.retryRun({ runId: RUN, requestedBy: 'alice', now: at(5_000) }),
          'RUN.NOT_RETRYABLE',
        );
        await rejectsWith(store.retryRun({ runId: 'nope', requestedBy: 'alice' }), 'RUN.NOT_FOUND');
      });

      it('deploys a skipped unblessed run on demand only with allowUnblessed', async () => {
        await walkRun(sampleIdentity({ isBlessed: false }), ['register']);
        await store.transition({ runId: RUN, to: 'skipped', reason: 'not blessed', now: at(100) });
        const skipped = await store.getRun(RUN);
        await rejectsWith(
          store.requestDeploy({
            runId: RUN,
            requestedBy: 'bob',
            allowUnblessed: false,
            now: at(200),
          }),
          'RUN.NOT_BLESSED',
        );
        assert.deepEqual(await store.getRun(RUN), skipped, 'a refusal writes nothing');

        const reopened = await store.requestDeploy({
          runId: RUN,
          requestedBy: 'bob',
          allowUnblessed: true,
          now: at(300),
        });
        assert.equal(reopened.step, 'deploy');
        const stored = await store.getRun(RUN);
        assert.deepEqual(reopened.run, stored);
        assert.equal(stored?.status, 'registered');
        assert.deepEqual(stored?.manualDeploy, {
          requestedAt: at(300).toISOString(),
          allowUnblessed: true,
          fromStatus: 'skipped',
        });
        assert.deepEqual(stored?.steps.deploy, {
          status: 'pending',
          attempts: 0,
          handOffAt: at(300).toISOString(),
        });
        const claim = await store.claimStep({
          runId: RUN,
          step: 'deploy',
          owner: 'd',
          leaseMs: 60_000,
          now: at(400),
        });
        assert.equal(claim.kind, 'claimed');
      });

      it('refuses to deploy a run never registered, one live, one in flight', async () => {
        await failedIn('register');
        await rejectsWith(
          store.requestDeploy({ runId: RUN, requestedBy: 'bob', allowUnblessed: false }),
          'RUN.NOT_DEPLOYABLE',
        );
        const live = sampleIdentity({ trainingRunId: 'live' });
        await walkRun(live, STEPS, { startMs: 2_000 });
        await rejectsWith(
          store.requestDeploy({
            runId: 'recs-home-live',
            requestedBy: 'bob',
            allowUnblessed: false,
          }),
          'RUN.NOT_DEPLOYABLE',
        );
        await walkRun(sampleIdentity({ trainingRunId: 'mid' }), ['register', 'deploy'], {
          startMs: 3_000,
        });
        await rejectsWith(
          store.requestDeploy({
            runId: 'recs-home-mid',
            requestedBy: 'bob',
            allowUnblessed: false,
          }),
          'RUN.NOT_DEPLOYABLE',
        );
        await rejectsWith(
          store.requestDeploy({ runId: 'nope', requestedBy: 'bob', allowUnblessed: false }),
          'RUN.NOT_FOUND',
        );
      });
    });

    rejectedEventsContract(() => store);
    freshnessAlertsContract(() => store);

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
