/**
 * The RunStore contract for canaries (registered by run-store.contract.ts, so
 * every adapter runs it): verify starting a canary, the serving record during
 * a split, the compare-and-set of canary states, and the promotion and abort.
 */
import assert from 'node:assert/strict';
import {
  canaryFinished,
  decideHold,
  type CanaryState,
  type RunDocument,
  type RunStore,
} from '@recdeploy/shared';
import { startAsCanary, walkRun } from '../fixtures/canary-runs.js';
import { at, observedTraffic } from '../fixtures/runs.js';

const SERVICE = 'recs-home';
const STABLE = 'recs-home-00001-a';
const CANARY = 'recs-home-00002-b';
const A = 'recs-home-train-a';
const B = 'recs-home-train-b';

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  });
}

export function canaryContract(getStore: () => RunStore): void {
  describe('canary', () => {
    const store = () => getStore();

    /** A live on STABLE; B deployed on CANARY, its verify step claimed by "verifier". */
    async function bothRuns(): Promise<void> {
      const a = { trainingRunId: 'train-a', runNumber: 1, service: SERVICE, revision: STABLE };
      assert.equal((await walkRun(store(), { ...a, verified: true, startMs: 0 })).status, 'live');
      const b = { trainingRunId: 'train-b', runNumber: 2, service: SERVICE, revision: CANARY };
      const verifying = await walkRun(store(), { ...b, verified: false, startMs: 2_000 });
      assert.equal(verifying.steps.verify.lease?.owner, 'verifier');
    }

    /** A live on STABLE; B verified and holding its first step (10%) on CANARY. */
    async function aLiveBCanary(): Promise<RunDocument> {
      await bothRuns();
      return startAsCanary(store(), {
        runId: B,
        owner: 'verifier',
        service: SERVICE,
        modelEndpointId: 'recs-home',
        revision: CANARY,
        stableRevision: STABLE,
        now: at(4_000),
      });
    }

    const canaryOf = (run: RunDocument | undefined): CanaryState => {
      assert.ok(run?.canary, 'the run has a canary state');
      return run.canary;
    };
    const status = async (runId: string) => (await store().getRun(runId))?.status;

    it('verify starts a canary: the run is canary, the stable run stays live, the record shows the split', async () => {
      const b = await aLiveBCanary();
      assert.equal(b.status, 'canary');
      assert.equal(b.steps.verify.status, 'succeeded');
      assert.equal(canaryOf(b).phase, 'holding');
      assert.equal(await status(A), 'live');
      const record = await store().getServingRecord(SERVICE);
      assert.equal(record?.liveRevision, STABLE);
      assert.equal(record?.liveRunId, A);
      assert.deepEqual(
        record?.traffic.map((share) => [share.revision, share.percent, share.runId]),
        [
          [STABLE, 90, A],
          [CANARY, 10, B],
        ],
      );
    });

    it('refuses to start a canary the platform does not show serving', async () => {
      await bothRuns();
      await rejectsWith(
        store().recordServing({
          service: SERVICE,
          modelEndpointId: 'recs-home',
          observed: observedTraffic(SERVICE, { [STABLE]: 100 }),
          cause: 'test',
          startsCanary: true,
          complete: { runId: B, step: 'verify', owner: 'verifier' },
          now: at(4_000),
        }),
        'PLATFORM.CONFLICT',
      );
      assert.equal(await status(B), 'verifying');
    });

    it('an observation of any split, even the canary at 100% before its promotion is recorded, moves no run', async () => {
      await aLiveBCanary();
      const splits: Record<string, number>[] = [
        { [STABLE]: 50, [CANARY]: 50 },
        { [CANARY]: 90, [STABLE]: 10 },
        { [CANARY]: 100 },
      ];
      for (const shares of splits) {
        const result = await store().recordServing({
          service: SERVICE,
          modelEndpointId: 'recs-home',
          observed: observedTraffic(SERVICE, shares),
          cause: 'observed by the reconciler',
          now: at(5_000),
        });
        assert.deepEqual(result.changedRuns, [], JSON.stringify(shares));
        assert.equal(await status(A), 'live');
        assert.equal(await status(B), 'canary');
      }
    });

    it('writes a canary state only at the expected seq: a second tick with the same read writes nothing', async () => {
      const b = await aLiveBCanary();
      const state = canaryOf(b);
      const analysis = {
        from: at(4_000).toISOString(),
        to: at(5_000).toISOString(),
        canary: { requests: 10, errors: 0 },
        stable: { requests: 90, errors: 0 },
        findings: [],
        verdict: 'wait' as const,
        summary: 'waiting',
      };
      const next = decideHold(state, analysis, at(5_000));
      const first = await store().updateCanary({
        runId: B,
        expectSeq: state.seq,
        canary: next,
        now: at(5_000),
      });
      assert.equal(first.updated, true);
      assert.equal(canaryOf(first.run).seq, state.seq + 1);
      const second = await store().updateCanary({
        runId: B,
        expectSeq: state.seq,
        canary: next,
        now: at(5_001),
      });
      assert.equal(second.updated, false);
      assert.deepEqual(await store().getRun(B), first.run);
      await rejectsWith(
        store().updateCanary({ runId: B, expectSeq: next.seq, canary: next, now: at(5_002) }),
        'RUN.ILLEGAL_TRANSITION',
      );
    });

    it('an aborted canary ends rolled_back with its reason; the stable run stays live', async () => {
      const b = await aLiveBCanary();
      const state = canaryOf(b);
      const aborting: CanaryState = {
        ...state,
        phase: 'aborting',
        seq: state.seq + 1,
        outcome: {
          result: 'aborted',
          reason: 'error ratio 5.0% on the canary …',
          at: at(6_000).toISOString(),
        },
      };
      assert.equal(
        (
          await store().updateCanary({
            runId: B,
            expectSeq: state.seq,
            canary: aborting,
            now: at(6_000),
          })
        ).updated,
        true,
      );
      const ended = await store().updateCanary({
        runId: B,
        expectSeq: aborting.seq,
        canary: canaryFinished(aborting, at(6_100)),
        endAs: {
          status: 'rolled_back',
          reason: 'canary aborted: error ratio 5.0% on the canary …',
        },
        now: at(6_100),
      });
      assert.equal(ended.updated, true);
      assert.equal(ended.run.status, 'rolled_back');
      assert.equal(ended.run.statusReason, 'canary aborted: error ratio 5.0% on the canary …');
      assert.equal(canaryOf(ended.run).phase, 'aborted');
      assert.equal(await status(A), 'live');
      const late = await store().updateCanary({
        runId: B,
        expectSeq: aborting.seq,
        canary: canaryFinished(aborting, at(6_200)),
        now: at(6_200),
      });
      assert.equal(late.updated, false, 'a run that left canary takes no canary write');
    });

    it('a promoted canary goes live and replaces the stable run in one write, once', async () => {
      const b = await aLiveBCanary();
      const state = canaryOf(b);
      const promoting: CanaryState = { ...state, phase: 'promoting', seq: state.seq + 1 };
      await store().updateCanary({
        runId: B,
        expectSeq: state.seq,
        canary: promoting,
        now: at(7_000),
      });
      const finish = {
        service: SERVICE,
        modelEndpointId: 'recs-home',
        observed: observedTraffic(SERVICE, { [CANARY]: 100 }),
        cause: 'canary promoted',
        finishCanary: {
          runId: B,
          expectSeq: promoting.seq,
          canary: canaryFinished(promoting, at(7_100)),
        },
        now: at(7_100),
      };
      await rejectsWith(
        store().recordServing({
          ...finish,
          observed: observedTraffic(SERVICE, { [CANARY]: 50, [STABLE]: 50 }),
        }),
        'PLATFORM.CONFLICT',
      );
      assert.equal(
        await status(B),
        'canary',
        'not live while the platform does not show it serving',
      );
      const result = await store().recordServing(finish);
      const byId = new Map(result.changedRuns.map((run) => [run.runId, run]));
      assert.equal(byId.get(B)?.status, 'live');
      assert.equal(canaryOf(byId.get(B)).phase, 'promoted');
      assert.equal(byId.get(A)?.status, 'replaced');
      assert.equal(byId.get(A)?.replacedBy, B);
      assert.equal(result.record.liveRunId, B);
      const again = await store().recordServing({ ...finish, now: at(7_200) });
      assert.deepEqual(again.changedRuns, [], 'a repeated promotion writes nothing');
    });
  });
}
