/**
 * The RunStore contract for an operator's second chance (registered by
 * run-store.contract.ts, so every adapter runs it): retryRun of a failed run
 * and requestDeploy of a skipped one, and what each refuses.
 */
import assert from 'node:assert/strict';
import type { RunDocument, RunStore, StepName } from '@recdeploy/shared';
import { at, sampleIdentity } from '../fixtures/runs.js';
import {
  RUN,
  STEPS,
  rejectsWith,
  walkRunIn,
  type WalkRunArgs,
} from './run-store-contract.support.js';

export function retryContract(getStore: () => RunStore): void {
  // The store of the current test (the entry's beforeEach made it just before).
  let store: RunStore;
  beforeEach(() => {
    store = getStore();
  });
  const walkRun = (...args: WalkRunArgs) => walkRunIn(store, ...args);

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
}
