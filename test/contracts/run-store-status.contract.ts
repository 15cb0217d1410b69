/**
 * The RunStore contract for a run's status (registered by
 * run-store.contract.ts, so every adapter runs it): transition between
 * statuses, and listing runs by status and endpoint.
 */
import assert from 'node:assert/strict';
import type { RunStore } from '@recdeploy/shared';
import { T0, at, sampleIdentity } from '../fixtures/runs.js';
import { RUN, rejectsWith, runThroughIn } from './run-store-contract.support.js';

export function runStatusContract(getStore: () => RunStore): void {
  // The store of the current test (the entry's beforeEach made it just before).
  let store: RunStore;
  beforeEach(() => {
    store = getStore();
  });
  const runThrough = (steps: readonly ('register' | 'deploy' | 'verify')[]) =>
    runThroughIn(store, steps);

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
        (await store.listRuns({ modelEndpointId: 'ep-a', status: 'received' })).map((r) => r.runId),
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
}
