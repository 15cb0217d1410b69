/**
 * An operator's retry of a failed run and on-demand deploy of a registered
 * run (shared/domain/operator-commands.ts): both reopen a run that ended, say
 * so in its history, and refuse with guidance what they cannot do.
 */
import assert from 'node:assert/strict';
import {
  decideClaimHandOff,
  decideClaimStep,
  decideFailStep,
  decideRequestDeploy,
  decideRetryRun,
  decideServingChange,
  decideTransition,
  findSupersedingRun,
  type RequestDeployRequest,
  type RetryRunRequest,
  type RunDocument,
  type RunStatus,
  type StepName,
} from '@recdeploy/shared';
import { at, deployedTo, observedTraffic, registeredAs } from '../../fixtures/runs.js';
import { claimed, errorOf, must, newRun, walk } from './run-decisions.js';

const RUN = 'recs-home-train-001';
const patches = { register: registeredAs(1), deploy: deployedTo('recs-home', 'recs-home-00001') };

/** The run after `steps` succeeded and `failing` failed permanently at T0 + 1 s. */
function failedIn(failing: StepName, identity: Parameters<typeof newRun>[0] = {}): RunDocument {
  const before = { register: [], deploy: ['register'], verify: ['register', 'deploy'] } as const;
  const run = walk(newRun(identity), before[failing], { patches });
  const held = claimed(run, failing, 'a', at(900));
  return must(
    decideFailStep(
      held,
      {
        runId: run.runId,
        step: failing,
        owner: 'a',
        permanent: true,
        error: { code: 'DEPENDENCY.UNAVAILABLE', message: `${failing} broke` },
      },
      { now: at(1_000) },
    ).write,
  );
}

/** A run moved to `to` with the real transition decision. */
function moved(run: RunDocument, to: RunStatus, reason: string): RunDocument {
  return must(decideTransition(run, { runId: run.runId, to, reason }, { now: at(2_000) }).write);
}

const retry = (overrides: Partial<RetryRunRequest> = {}): RetryRunRequest => ({
  runId: RUN,
  requestedBy: 'recdeploy retry by alice',
  ...overrides,
});

const deploy = (overrides: Partial<RequestDeployRequest> = {}): RequestDeployRequest => ({
  runId: RUN,
  requestedBy: 'recdeploy deploy by bob',
  allowUnblessed: false,
  ...overrides,
});

describe('operator commands', () => {
  describe('decideRetryRun', () => {
    it('reopens a run that failed in register: received, register pending, attempts kept', () => {
      const failed = failedIn('register');
      const { write, result } = decideRetryRun(failed, retry(), { now: at(5_000), eventId: 'cli' });
      const doc = must(write);
      assert.equal(result.step, 'register');
      assert.deepEqual(result.run, doc);
      assert.equal(doc.status, 'received');
      assert.equal(doc.statusReason, undefined);
      assert.deepEqual(doc.steps.register, {
        status: 'pending',
        attempts: 1,
        startedAt: at(900).toISOString(),
        handOffAt: at(5_000).toISOString(),
      });
      assert.deepEqual(doc.steps.deploy, failed.steps.deploy);
      assert.deepEqual(doc.steps.verify, failed.steps.verify);
      assert.equal(doc.artifactUri, failed.artifactUri);
      const last = must(doc.history.at(-1));
      assert.deepEqual(
        [last.from, last.to, last.at, last.eventId],
        ['failed', 'received', at(5_000).toISOString(), 'cli'],
      );
      assert.match(last.reason ?? '', /register.*alice/);
    });

    it('the reopened step is claimed as the next attempt, and its hand-off is already out', () => {
      const reopened = must(
        decideRetryRun(failedIn('register'), retry(), { now: at(5_000) }).write,
      );
      const handOff = decideClaimHandOff(
        reopened,
        { runId: RUN, step: 'register', windowMs: 10_000, reason: 'duplicate' },
        { now: at(5_001) },
      );
      assert.equal(handOff.result.kind, 'recent');
      const claim = decideClaimStep(
        reopened,
        { runId: RUN, step: 'register', owner: 'b', leaseMs: 60_000 },
        { now: at(5_002) },
      );
      assert.equal(claim.result.kind === 'claimed' && claim.result.attempt, 2);
      assert.equal(claim.result.run.status, 'registering');
    });

    it('takes a corrected artifact URI when register failed, and says so in the history', () => {
      const failed = failedIn('register');
      const uri = 'gs://models/recs-home/1-fixed/pushed_model';
      const doc = must(
        decideRetryRun(failed, retry({ artifactUri: uri }), { now: at(5_000) }).write,
      );
      assert.equal(doc.artifactUri, uri);
      assert.ok(doc.history.at(-1)?.reason?.includes(uri));
      assert.ok(doc.history.at(-1)?.reason?.includes(failed.artifactUri));
    });

    it('reopens a run that failed in deploy at registered, in verify at deployed', () => {
      for (const [step, ready] of [
        ['deploy', 'registered'],
        ['verify', 'deployed'],
      ] as const) {
        const failed = failedIn(step);
        const { write, result } = decideRetryRun(failed, retry(), { now: at(5_000) });
        const doc = must(write);
        assert.equal(result.step, step);
        assert.equal(doc.status, ready, step);
        assert.equal(doc.steps[step].status, 'pending');
        assert.equal(doc.steps[step].error, undefined, 'the old error no longer holds');
        assert.equal(doc.steps[step].handOffAt, at(5_000).toISOString());
        assert.equal(doc.steps.register.status, 'succeeded');
        assert.deepEqual(doc.registry, failed.registry);
      }
    });

    it('reopens a run failed by a transition (no step failed) at its first unfinished step', () => {
      const registered = walk(newRun(), ['register'], { patches });
      const failed = moved(registered, 'failed', 'operator gave up');
      const { write, result } = decideRetryRun(failed, retry(), { now: at(5_000) });
      assert.equal(result.step, 'deploy');
      assert.equal(must(write).status, 'registered');
    });

    it('refuses a corrected artifact once something was registered from the old one', () => {
      const failed = failedIn('deploy');
      const error = errorOf(() =>
        decideRetryRun(failed, retry({ artifactUri: 'gs://models/other' }), { now: at(5_000) }),
      );
      assert.equal(error.code, 'RUN.NOT_RETRYABLE');
      assert.equal(error.retryable, false);
      assert.match(error.message, /new training run/);
    });

    it('refuses a run that has not failed, with what to do instead', () => {
      const live = walk(newRun(), ['register', 'deploy', 'verify'], { patches });
      const liveError = errorOf(() => decideRetryRun(live, retry(), { now: at(5_000) }));
      assert.equal(liveError.code, 'RUN.NOT_RETRYABLE');
      assert.match(liveError.message, /live/);

      const unblessed = walk(newRun({ isBlessed: false }), ['register'], { patches });
      const skipped = moved(unblessed, 'skipped', 'not blessed');
      const skippedError = errorOf(() => decideRetryRun(skipped, retry(), { now: at(5_000) }));
      assert.equal(skippedError.code, 'RUN.NOT_RETRYABLE');
      assert.match(skippedError.message, /recdeploy deploy recs-home-train-001 --allow-unblessed/);

      const inFlight = claimed(newRun(), 'register', 'a', at(1));
      assert.equal(
        errorOf(() => decideRetryRun(inFlight, retry(), { now: at(5_000) })).code,
        'RUN.NOT_RETRYABLE',
      );
    });

    it('rejects an unknown run with RUN.NOT_FOUND', () => {
      assert.equal(
        errorOf(() => decideRetryRun(undefined, retry(), { now: at(0) })).code,
        'RUN.NOT_FOUND',
      );
    });
  });

  describe('decideRequestDeploy', () => {
    it('sends a skipped, unblessed run to deploy when the operator allows it', () => {
      const registered = walk(newRun({ isBlessed: false }), ['register'], { patches });
      const skipped = moved(registered, 'skipped', 'not blessed');
      const { write, result } = decideRequestDeploy(skipped, deploy({ allowUnblessed: true }), {
        now: at(5_000),
        eventId: 'cli',
      });
      const doc = must(write);
      assert.equal(result.step, 'deploy');
      assert.deepEqual(result.run, doc);
      assert.equal(doc.status, 'registered');
      assert.equal(doc.statusReason, undefined);
      assert.deepEqual(doc.manualDeploy, {
        requestedAt: at(5_000).toISOString(),
        allowUnblessed: true,
        fromStatus: 'skipped',
      });
      assert.deepEqual(doc.steps.deploy, {
        status: 'pending',
        attempts: 0,
        handOffAt: at(5_000).toISOString(),
      });
      assert.deepEqual(doc.steps.verify, { status: 'pending', attempts: 0 });
      assert.deepEqual(doc.steps.register, skipped.steps.register, 'register stays done');
      const last = must(doc.history.at(-1));
      assert.deepEqual([last.from, last.to, last.eventId], ['skipped', 'registered', 'cli']);
      assert.match(last.reason ?? '', /bob.*not blessed/);
    });

    it('refuses an unblessed run without allowUnblessed, with the flag to use', () => {
      const registered = walk(newRun({ isBlessed: false }), ['register'], { patches });
      const skipped = moved(registered, 'skipped', 'not blessed');
      const error = errorOf(() => decideRequestDeploy(skipped, deploy(), { now: at(5_000) }));
      assert.equal(error.code, 'RUN.NOT_BLESSED');
      assert.match(error.message, /--allow-unblessed/);
    });

    it('redeploys a replaced run: replacedBy and the old verification go, attempts count on', () => {
      const a = walk(
        newRun({ trainingRunId: 'a', runNumber: 1 }),
        ['register', 'deploy', 'verify'],
        {
          patches: {
            ...patches,
            verify: { verification: { checks: [{ name: 'smoke', passed: true }] } },
          },
        },
      );
      const b = walk(
        newRun({ trainingRunId: 'b', runNumber: 2 }),
        ['register', 'deploy', 'verify'],
        {
          patches: {
            register: registeredAs(2),
            deploy: deployedTo('recs-home', 'recs-home-00002'),
          },
        },
      );
      const promoted = decideServingChange(
        undefined,
        [a, b],
        {
          service: 'recs-home',
          modelEndpointId: 'recs-home',
          observed: observedTraffic('recs-home', { 'recs-home-00002': 100 }),
          cause: 'promote',
        },
        { now: at(3_000) },
      );
      const replaced = must(promoted.runWrites.find((run) => run.runId === a.runId));
      assert.equal(replaced.status, 'replaced');

      const doc = must(
        decideRequestDeploy(replaced, deploy({ runId: a.runId }), { now: at(5_000) }).write,
      );
      assert.equal(doc.status, 'registered');
      assert.equal(doc.replacedBy, undefined);
      assert.equal(doc.verification, undefined);
      assert.equal(doc.manualDeploy?.fromStatus, 'replaced');
      assert.equal(doc.manualDeploy?.allowUnblessed, false);
      assert.equal(doc.steps.deploy.attempts, 1);
      assert.equal(doc.steps.deploy.endedAt, undefined);
      const claim = decideClaimStep(
        doc,
        { runId: a.runId, step: 'deploy', owner: 'd', leaseMs: 60_000 },
        { now: at(5_001) },
      );
      assert.equal(claim.result.kind === 'claimed' && claim.result.attempt, 2);
      // The operator asked for the older run: the newer live one does not supersede it.
      assert.equal(findSupersedingRun(doc, [b]), undefined);
      assert.equal(findSupersedingRun(replaced, [b])?.runId, b.runId, 'it did before');
    });

    it('redeploys a rolled_back run and one that failed after it was registered', () => {
      const live = walk(newRun(), ['register', 'deploy', 'verify'], { patches });
      const rolledBack = moved(live, 'rolled_back', 'operator');
      assert.equal(
        must(decideRequestDeploy(rolledBack, deploy(), { now: at(5_000) }).write).manualDeploy
          ?.fromStatus,
        'rolled_back',
      );
      const failed = failedIn('verify');
      const doc = must(decideRequestDeploy(failed, deploy(), { now: at(5_000) }).write);
      assert.equal(doc.status, 'registered');
      assert.equal(doc.steps.verify.status, 'pending');
      assert.equal(doc.steps.verify.error, undefined);
    });

    it('refuses a run that was never registered, pointing a failed one to retry', () => {
      const failed = failedIn('register');
      const error = errorOf(() => decideRequestDeploy(failed, deploy(), { now: at(5_000) }));
      assert.equal(error.code, 'RUN.NOT_DEPLOYABLE');
      assert.match(error.message, /recdeploy retry recs-home-train-001/);

      const received = newRun();
      assert.equal(
        errorOf(() => decideRequestDeploy(received, deploy(), { now: at(5_000) })).code,
        'RUN.NOT_DEPLOYABLE',
      );
      // Skipped before register finished (e.g. superseded early): nothing to deploy.
      const skippedEarly = moved(newRun(), 'skipped', 'superseded');
      assert.equal(
        errorOf(() => decideRequestDeploy(skippedEarly, deploy(), { now: at(5_000) })).code,
        'RUN.NOT_DEPLOYABLE',
      );
    });

    it('refuses a live run and a run in flight', () => {
      const live = walk(newRun(), ['register', 'deploy', 'verify'], { patches });
      const liveError = errorOf(() => decideRequestDeploy(live, deploy(), { now: at(5_000) }));
      assert.equal(liveError.code, 'RUN.NOT_DEPLOYABLE');
      assert.match(liveError.message, /live already/);
      for (const run of [
        walk(newRun(), ['register'], { patches }),
        claimed(walk(newRun(), ['register'], { patches }), 'deploy', 'd', at(500)),
        walk(newRun(), ['register', 'deploy'], { patches }),
      ]) {
        const error = errorOf(() => decideRequestDeploy(run, deploy(), { now: at(5_000) }));
        assert.equal(error.code, 'RUN.NOT_DEPLOYABLE', run.status);
        assert.match(error.message, /--watch/, run.status);
      }
    });

    it('rejects an unknown run with RUN.NOT_FOUND', () => {
      assert.equal(
        errorOf(() => decideRequestDeploy(undefined, deploy(), { now: at(0) })).code,
        'RUN.NOT_FOUND',
      );
    });
  });
});
