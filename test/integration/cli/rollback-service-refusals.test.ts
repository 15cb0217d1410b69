/**
 * What the rollback use case refuses, on a real SQLite run store
 * (rollback-bench.ts): each refusal says why and changes nothing: no run,
 * no traffic, no announcement.
 */
import assert from 'node:assert/strict';
import { runKey } from '@recdeploy/shared';
import { rollbackService } from '@recdeploy/shared/chain';
import { sampleIdentity } from '../../fixtures/runs.js';
import { RollbackBench, SERVICE, traffic } from './rollback-bench.js';

describe('rollbackService refusals', () => {
  let bench: RollbackBench;

  beforeEach(() => {
    bench = new RollbackBench();
  });
  afterEach(() => bench.close());

  async function rejectsUnchanged(
    request: Parameters<typeof rollbackService>[1],
    code: string,
    message: string | RegExp,
  ): Promise<void> {
    const before = await bench.store.listRuns();
    await assert.rejects(
      rollbackService(bench.deps, request),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, code);
        if (typeof message === 'string') assert.equal(error.message, message);
        else assert.match(error.message, message);
        return true;
      },
    );
    assert.deepEqual(await bench.store.listRuns(), before, 'no run changed');
    assert.deepEqual(bench.platform.rollbacks, [], 'traffic not moved');
    assert.deepEqual(bench.bus.published, [], 'nothing announced');
  }

  it('refuses an unknown service, listing the services with a live run', async () => {
    await bench.live(1);
    bench.platform.traffic = traffic('r1');
    await rejectsUnchanged(
      { service: 'rec-nope' },
      'PLATFORM.NOT_FOUND',
      'service rec-nope does not exist on the serving platform (services with a live run: rec-recs-home)',
    );
  });

  it('refuses a service no live run serves', async () => {
    await bench.live(1, 'rec-other');
    bench.platform.traffic = traffic('r9');
    await rejectsUnchanged(
      { service: SERVICE },
      'RUN.NOT_FOUND',
      "no live run serves service rec-recs-home (the platform's live revision: r9) (services with a live run: rec-other)",
    );
  });

  it('refuses when there is nothing to roll back to', async () => {
    await bench.live(1);
    bench.platform.traffic = traffic('r1');
    await rejectsUnchanged(
      { service: SERVICE },
      'PLATFORM.NOT_FOUND',
      'service rec-recs-home has nothing to roll back to: run recs-home-train-1 (revision r1) replaced no earlier run and the platform remembers no previous revision; name a revision explicitly to roll back to it',
    );
  });

  it('refuses the live revision itself, and the revision of a run that never passed verification', async () => {
    await bench.live(1);
    const failedIdentity = sampleIdentity({ trainingRunId: 'train-2', runNumber: 2 });
    await bench.store.createRun(failedIdentity);
    const failedId = runKey(failedIdentity);
    for (const step of ['register', 'deploy'] as const) {
      await bench.store.claimStep({ runId: failedId, step, owner: 't', leaseMs: 60_000 });
      await bench.store.completeStep({
        runId: failedId,
        step,
        owner: 't',
        patch: { serving: { runtime: 'ann-serving', service: SERVICE, revision: 'r2' } },
      });
    }
    await bench.store.claimStep({ runId: failedId, step: 'verify', owner: 't', leaseMs: 60_000 });
    await bench.store.failStep({
      runId: failedId,
      step: 'verify',
      owner: 't',
      permanent: true,
      error: { code: 'VERIFY.FAILED', message: 'latency' },
    });
    bench.platform.traffic = traffic('r1');
    await rejectsUnchanged(
      { service: SERVICE, toRevision: 'r1' },
      'PLATFORM.REJECTED',
      'revision r1 is the one being rolled back (run recs-home-train-1); name an earlier revision',
    );
    await rejectsUnchanged(
      { service: SERVICE, toRevision: 'r2' },
      'PLATFORM.REJECTED',
      'revision r2 belongs to run recs-home-train-2, which is failed: it never passed verification, so it cannot take traffic by a rollback',
    );
  });

  it('waits for a deployment holding the service (a passing failure)', async () => {
    await bench.live(1);
    await bench.live(2);
    bench.platform.traffic = traffic('r2', 'r1');
    const request = { service: SERVICE, toRevision: 'r1' };
    await bench.store.acquireServiceLease({
      service: SERVICE,
      runId: 'recs-home-train-3',
      ttlMs: 60_000,
    });
    await assert.rejects(
      rollbackService(bench.deps, request),
      (error: Error & { code?: string; retryable?: boolean }) => {
        assert.equal(error.code, 'RUN.STEP_BUSY');
        assert.equal(error.retryable, true);
        assert.match(
          error.message,
          /^service rec-recs-home is held by run recs-home-train-3 until .* \(a deployment is in progress\); try again once it has finished$/,
        );
        return true;
      },
    );
    assert.deepEqual(bench.platform.rollbacks, []);
    assert.equal((await bench.store.getRun('recs-home-train-2'))?.status, 'live');
  });
});
