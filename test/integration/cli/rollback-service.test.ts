/**
 * The rollback use case (shared/usecases/rollback-service.ts) on a real
 * SQLite run store (rollback-bench.ts): how it picks the target, what it
 * records through the serving record (the displaced run rolled_back or
 * replaced, the target's run live again: one live run per service) and what
 * it announces. Refusals: rollback-service-refusals.test.ts.
 */
import assert from 'node:assert/strict';
import { rollbackService } from '@recdeploy/shared/chain';
import { RollbackBench, SERVICE, traffic } from './rollback-bench.js';

describe('rollbackService', () => {
  let bench: RollbackBench;

  beforeEach(() => {
    bench = new RollbackBench();
  });
  afterEach(() => bench.close());

  it("goes back to the platform's previous revision, the run it replaced; records and announces both", async () => {
    await bench.live(1);
    const current = await bench.live(2);
    assert.equal((await bench.store.getRun('recs-home-train-1'))?.status, 'replaced');
    bench.platform.traffic = traffic('r2', 'r1');

    const result = await rollbackService(bench.deps, { service: SERVICE });

    assert.deepEqual(bench.platform.rollbacks, [[SERVICE, 'r1']]);
    assert.equal(result.fromRevision, 'r2');
    assert.equal(result.toRevision, 'r1');
    assert.equal(result.targetSource, 'platform_previous');
    assert.equal(result.traffic.liveRevision, 'r1');
    const stored = await bench.store.getRun(current.runId);
    assert.equal(stored?.status, 'rolled_back');
    assert.equal(
      stored?.statusReason,
      'rolled back by an operator to revision r1: traffic moved to revision r1 of run recs-home-train-1',
    );
    assert.deepEqual(result.rolledBack, stored);
    assert.equal(result.targetRun?.runId, 'recs-home-train-1');
    assert.equal(result.targetRun?.status, 'live', 'the run it replaced serves again');
    assert.deepEqual(await bench.statuses(), {
      'recs-home-train-1': 'live',
      'recs-home-train-2': 'rolled_back',
    });
    const record = await bench.store.getServingRecord(SERVICE);
    assert.equal(record?.liveRunId, 'recs-home-train-1');

    // Both moves are announced, each with what serves now.
    const servingNow = {
      service: SERVICE,
      revision: 'r1',
      run_id: 'recs-home-train-1',
      traffic_percent: 100,
      since: record?.since,
    };
    assert.deepEqual(
      bench.bus.published.map(({ topic, message }) => [topic, message.attributes]),
      [
        ['deployment-finished', { run_id: current.runId, schema_version: '1' }],
        ['deployment-finished', { run_id: 'recs-home-train-1', schema_version: '1' }],
      ],
    );
    const [rolledBack, liveAgain] = bench.bus.published.map(({ message }) => message.data);
    assert.deepEqual(rolledBack, {
      schema_version: '1',
      run_id: 'recs-home-train-2',
      training_run_id: 'train-2',
      model_endpoint_id: 'recs-home',
      outcome: 'rolled_back',
      reason: stored?.statusReason,
      revision: 'r2',
      finished_at: stored?.updatedAt,
      verification: { passed: true, checks: [{ name: 'model_available', passed: true }] },
      serving_now: servingNow,
    });
    assert.equal((liveAgain as { outcome: string }).outcome, 'live');
    assert.deepEqual((liveAgain as { serving_now: unknown }).serving_now, servingNow);
    // The service lease was released: a deployment can take the service now.
    const lease = await bench.store.acquireServiceLease({
      service: SERVICE,
      runId: 'next',
      ttlMs: 1_000,
    });
    assert.equal(lease.acquired, true);
  });

  it('rolling back twice skips the revision it just rolled back, for the run before', async () => {
    await bench.live(1);
    await bench.live(2);
    await bench.live(3);
    bench.platform.traffic = traffic('r3', 'r2');
    await rollbackService(bench.deps, { service: SERVICE });
    assert.deepEqual(await bench.statuses(), {
      'recs-home-train-1': 'replaced',
      'recs-home-train-2': 'live',
      'recs-home-train-3': 'rolled_back',
    });

    // The platform's previous revision is r3 now, whose run was just rolled back.
    const result = await rollbackService(bench.deps, { service: SERVICE });
    assert.deepEqual(bench.platform.rollbacks, [
      [SERVICE, 'r2'],
      [SERVICE, 'r1'],
    ]);
    assert.equal(result.rolledBack.runId, 'recs-home-train-2');
    assert.deepEqual(await bench.statuses(), {
      'recs-home-train-1': 'live',
      'recs-home-train-2': 'rolled_back',
      'recs-home-train-3': 'rolled_back',
    });
  });

  it('--to back and forth: an older target rolls the run back, a newer one replaces it', async () => {
    await bench.live(1);
    await bench.live(2);
    await bench.live(3);
    bench.platform.traffic = traffic('r3', 'r2');
    const back = await rollbackService(bench.deps, { service: SERVICE, toRevision: 'r1' });
    assert.equal(back.targetSource, 'requested');
    assert.equal(back.rolledBack.status, 'rolled_back');
    assert.deepEqual(await bench.statuses(), {
      'recs-home-train-1': 'live',
      'recs-home-train-2': 'replaced',
      'recs-home-train-3': 'rolled_back',
    });

    const forth = await rollbackService(bench.deps, { service: SERVICE, toRevision: 'r2' });
    assert.equal(forth.rolledBack.runId, 'recs-home-train-1');
    assert.equal(
      forth.rolledBack.status,
      'replaced',
      'r2 is newer: run 1 is replaced, not rolled back',
    );
    assert.equal(forth.rolledBack.replacedBy, 'recs-home-train-2');
    assert.equal(forth.targetRun?.status, 'live');
    assert.deepEqual(await bench.statuses(), {
      'recs-home-train-1': 'replaced',
      'recs-home-train-2': 'live',
      'recs-home-train-3': 'rolled_back',
    });
    // A replaced run is not announced (deployment-finished v1 has no such outcome).
    assert.deepEqual(
      bench.bus.published
        .slice(2)
        .map(({ message }) => (message.data as { run_id: string; outcome: string }).outcome),
      ['live'],
    );
  });

  it('records a move the platform made without it being recorded (an interrupted rollback)', async () => {
    await bench.live(1);
    const two = await bench.live(2);
    bench.platform.traffic = traffic('r1', 'r2');
    const result = await rollbackService(bench.deps, { service: SERVICE });
    assert.deepEqual(bench.platform.rollbacks, [], 'the traffic is already there');
    assert.equal(result.targetSource, 'already_serving');
    assert.equal((await bench.store.getRun(two.runId))?.status, 'rolled_back');
    assert.equal((await bench.store.getRun('recs-home-train-1'))?.status, 'live');
    assert.equal(bench.bus.published.length, 2, 'run 2 rolled back, run 1 live again');
  });
});
