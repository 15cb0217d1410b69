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
import { startAsCanary } from '../fixtures/canary-runs.js';
import {
  at,
  completeAsChain,
  deployedTo,
  observedTraffic,
  registeredAs,
  sampleIdentity,
} from '../fixtures/runs.js';

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

    async function walk(
      trainingRunId: string,
      runNumber: number,
      revision: string,
      steps: readonly ('register' | 'deploy' | 'verify')[],
      startMs: number,
    ): Promise<RunDocument> {
      let t = startMs;
      let run = (
        await store().createRun(sampleIdentity({ trainingRunId, runNumber }), { now: at(t) })
      ).run;
      const patches = { register: registeredAs(runNumber), deploy: deployedTo(SERVICE, revision) };
      for (const step of steps) {
        const claim = await store().claimStep({
          runId: run.runId,
          step,
          owner: 'w',
          leaseMs: 60_000,
          now: at((t += 10)),
        });
        assert.equal(claim.kind, 'claimed');
        const patch = step === 'verify' ? undefined : patches[step];
        run = (
          await completeAsChain(store(), {
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

    /** A live on STABLE; B verified and holding its first step (10%) on CANARY. */
    async function aLiveBCanary(): Promise<RunDocument> {
      await walk('train-a', 1, STABLE, ['register', 'deploy', 'verify'], 0);
      await walk('train-b', 2, CANARY, ['register', 'deploy'], 2_000);
      const claim = await store().claimStep({
        runId: B,
        step: 'verify',
        owner: 'verifier',
        leaseMs: 60_000,
        now: at(3_000),
      });
      assert.equal(claim.kind, 'claimed');
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
      await walk('train-a', 1, STABLE, ['register', 'deploy', 'verify'], 0);
      await walk('train-b', 2, CANARY, ['register', 'deploy'], 2_000);
      await store().claimStep({
        runId: B,
        step: 'verify',
        owner: 'v',
        leaseMs: 60_000,
        now: at(3_000),
      });
      await rejectsWith(
        store().recordServing({
          service: SERVICE,
          modelEndpointId: 'recs-home',
          observed: observedTraffic(SERVICE, { [STABLE]: 100 }),
          cause: 'test',
          startsCanary: true,
          complete: { runId: B, step: 'verify', owner: 'v' },
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
