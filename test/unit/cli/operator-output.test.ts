/**
 * What the CLI says about operator actions: publish for a run that already
 * exists, what retry and deploy did, and what a rollback did.
 */
import assert from 'node:assert/strict';
import { buildTrainingCompletedV1 } from '@recdeploy/events';
import type { RunDocument } from '@recdeploy/shared';
import type { RollbackResult } from '@recdeploy/shared/chain';
import { existingRunGuidance } from '../../../cli/src/output/existing-run.js';
import { describeOperatorOutcome } from '../../../cli/src/output/operator-outcome.js';
import { describeRollback } from '../../../cli/src/output/rollback-outcome.js';
import {
  NINE_SERVES,
  R9,
  liveNine,
  liveRun,
  receivedRun,
  replacedSeven,
  servingRecord,
} from './run-documents.js';

describe('CLI output about operator actions', () => {
  describe('publish of a run that exists', () => {
    const message = (artifact = 'gs://models/home/7') =>
      buildTrainingCompletedV1({
        training_run_id: 'train-7',
        model_endpoint_id: 'home',
        model_slug: 'two-tower',
        run_number: 7,
        model_type: 'retrieval',
        retrieval_algorithm: 'hnsw',
        artifact_uri: artifact,
        is_blessed: true,
        metrics: {},
      });
    const failedAt = (step: 'register' | 'deploy'): RunDocument => {
      const run = receivedRun({
        status: 'failed',
        statusReason: `${step} attempt 1 failed: ARTIFACT.NOT_FOUND: no saved_model.pb`,
      });
      return {
        ...run,
        steps: {
          ...run.steps,
          register:
            step === 'register' ? { status: 'failed', attempts: 1 } : liveRun().steps.register,
          deploy: step === 'deploy' ? { status: 'failed', attempts: 1 } : run.steps.deploy,
        },
      };
    };
    const first =
      "run home-train-7 already exists, so the stack would drop this message (the register step keeps a run's first message): not published";
    const force =
      '  pass --force to publish it anyway, as a duplicate delivery of run home-train-7';

    it('failed: retry it, with --artifact-uri when the message brings another artifact', () => {
      assert.deepEqual(existingRunGuidance(failedAt('register'), message(), undefined), [
        first,
        '  status failed: register attempt 1 failed: ARTIFACT.NOT_FOUND: no saved_model.pb',
        '  to retry it: recdeploy retry home-train-7',
        force,
      ]);
      assert.equal(
        existingRunGuidance(failedAt('register'), message('gs://models/home/7b'), undefined)[2],
        "  to retry it with this message's artifact: recdeploy retry home-train-7 --artifact-uri gs://models/home/7b",
      );
      assert.deepEqual(
        existingRunGuidance(failedAt('deploy'), message('gs://models/home/7b'), undefined).slice(
          2,
          4,
        ),
        [
          '  its artifact gs://models/home/7 was registered before its deploy step failed, so it cannot change: publish gs://models/home/7b as a new training run (another training_run_id)',
          '  to retry it with its registered artifact: recdeploy retry home-train-7',
        ],
      );
    });

    it('skipped, replaced or rolled back: deploy it (unblessed ones with the flag); live: nothing', () => {
      const skipped = liveRun({
        status: 'skipped',
        isBlessed: false,
        statusReason: 'RUN.NOT_BLESSED: not blessed',
      });
      assert.equal(
        existingRunGuidance(skipped, message(), undefined)[2],
        '  to serve it: recdeploy deploy home-train-7 --allow-unblessed',
      );
      assert.equal(
        existingRunGuidance(replacedSeven(), message(), NINE_SERVES)[2],
        '  to serve it: recdeploy deploy home-train-7',
      );
      assert.equal(
        existingRunGuidance(receivedRun({ status: 'skipped' }), message(), undefined)[2],
        '  it was never registered, so it cannot be deployed by hand',
      );
      assert.equal(
        existingRunGuidance(liveRun(), message(), servingRecord())[2],
        '  it is live (revision rec-home-r7-abcd1234, 100% of service rec-home): nothing to do',
      );
      assert.equal(
        existingRunGuidance(receivedRun({ status: 'deploying' }), message(), undefined)[2],
        '  it is in progress: follow it with recdeploy status home-train-7 --watch',
      );
    });
  });

  describe('retry and deploy', () => {
    const published = [{ topic: 'training-completed', messageId: '42', runId: 'home-train-7' }];

    it('a retry: the step, its next attempt, the run before and after, the message', () => {
      const before = { ...failedRegister(), artifactUri: 'gs://models/home/7' };
      const after = receivedRun({ artifactUri: 'gs://models/home/7b' });
      const reopened = {
        ...after,
        steps: { ...after.steps, register: { status: 'pending' as const, attempts: 1 } },
      };
      assert.deepEqual(
        describeOperatorOutcome({
          command: 'retry',
          before,
          outcome: { run: reopened, step: 'register', action: 'reopened' },
          published,
          where: 'the local bus /d/bus.db',
          queued: false,
        }),
        [
          'run home-train-7: its register step starts again, as attempt 2',
          '  was failed: register attempt 1 failed: ARTIFACT.NOT_FOUND: nothing there',
          '  artifact gs://models/home/7b (was gs://models/home/7)',
          '  now received: waiting for its register step',
          '  published training-completed message 42 to the local bus /d/bus.db',
        ],
      );
    });

    it('a stuck run handed on, and an on-demand deploy of a run that was not blessed', () => {
      const stuck = liveRun({ status: 'registered', statusReason: undefined });
      assert.equal(
        describeOperatorOutcome({
          command: 'retry',
          before: stuck,
          outcome: { run: stuck, step: 'deploy', action: 'redriven' },
          published: [],
          where: 'Pub/Sub project p',
          queued: false,
        })[0],
        'run home-train-7: no attempt held its deploy step, so the step was handed on again (attempt 3 next)',
      );
      const skipped = liveRun({
        status: 'skipped',
        isBlessed: false,
        statusReason: 'RUN.NOT_BLESSED: not blessed',
      });
      const registered = { ...skipped, status: 'registered' as const, statusReason: undefined };
      assert.deepEqual(
        describeOperatorOutcome({
          command: 'deploy',
          before: skipped,
          outcome: { run: registered, step: 'deploy', action: 'reopened' },
          published: [{ topic: 'model-registered', messageId: '7' }],
          where: 'Pub/Sub project p',
          queued: false,
        }),
        [
          'run home-train-7: deployed on demand: its deploy step starts (attempt 3), then verify',
          '  was skipped: RUN.NOT_BLESSED: not blessed',
          '  not blessed by the Evaluator: deployed anyway, as --allow-unblessed asked',
          '  now registered: waiting for its deploy step',
          '  published model-registered message 7 to Pub/Sub project p',
        ],
      );
    });
  });

  describe('describeRollback', () => {
    function result(overrides: Partial<RollbackResult> = {}): RollbackResult {
      return {
        service: 'rec-home',
        rolledBack: liveNine(),
        fromRevision: R9,
        toRevision: 'rec-home-r7-abcd1234',
        targetSource: 'platform_previous',
        targetRun: liveRun(),
        traffic: {
          service: 'rec-home',
          serviceUrl: 'http://127.0.0.1:4100',
          liveRevision: 'rec-home-r7-abcd1234',
          targets: [
            { revision: 'rec-home-r7-abcd1234', percent: 100 },
            { revision: R9, percent: 0, tag: 'run-9' },
          ],
        },
        ...overrides,
      };
    }

    it('the displaced run, the run serving now, the observed traffic and what was announced', () => {
      const rolledBack = {
        ...liveNine(),
        status: 'rolled_back' as const,
        statusReason: 'rolled back by an operator',
      };
      assert.deepEqual(
        describeRollback(result({ rolledBack }), [
          {
            topic: 'deployment-finished',
            messageId: '1',
            runId: 'home-train-9',
            outcome: 'rolled_back',
          },
          { topic: 'deployment-finished', messageId: '2', runId: 'home-train-7', outcome: 'live' },
        ]),
        [
          `rolled back service rec-home: revision ${R9} → rec-home-r7-abcd1234`,
          `  run home-train-9 (revision ${R9}) is rolled_back: rolled back by an operator`,
          '  now serving revision rec-home-r7-abcd1234 (run home-train-7, run number 7, live) at http://127.0.0.1:4100',
          '  traffic as the platform reports it: rec-home-r7-abcd1234 100%',
          '  deployment-finished published to deployment-finished: run home-train-9 rolled_back, run home-train-7 live',
        ],
      );
    });

    it('a move the platform had made already is recorded now, and said so', () => {
      const lines = describeRollback(
        result({ targetSource: 'already_serving', targetRun: undefined }),
        [],
      );
      assert.equal(
        lines[2],
        '  now serving revision rec-home-r7-abcd1234 (no run of this endpoint deployed it) at http://127.0.0.1:4100',
      );
      assert.equal(lines[4], '  no deployment-finished message: no run ended or went live');
      assert.equal(
        lines[5],
        '  the platform already served revision rec-home-r7-abcd1234: the move had not been recorded (an interrupted rollback, or a change made outside recdeploy); recorded now',
      );
    });
  });
});

function failedRegister(): RunDocument {
  const run = receivedRun({
    status: 'failed',
    statusReason: 'register attempt 1 failed: ARTIFACT.NOT_FOUND: nothing there',
  });
  return { ...run, steps: { ...run.steps, register: { status: 'failed', attempts: 1 } } };
}
