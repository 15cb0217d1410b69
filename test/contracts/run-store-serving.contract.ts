/**
 * The RunStore contract for the serving record (registered by
 * run-store.contract.ts, so every adapter runs it): recordServing moving runs
 * live, replaced and rolled back with what the platform shows serving, and
 * the one record per service it keeps.
 */
import assert from 'node:assert/strict';
import type { RunStore } from '@recdeploy/shared';
import { at, observedTraffic, sampleIdentity } from '../fixtures/runs.js';
import { STEPS, rejectsWith, walkRunIn, type WalkRunArgs } from './run-store-contract.support.js';

export function servingContract(getStore: () => RunStore): void {
  // The store of the current test (the entry's beforeEach made it just before).
  let store: RunStore;
  beforeEach(() => {
    store = getStore();
  });
  const walkRun = (...args: WalkRunArgs) => walkRunIn(store, ...args);

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
}
