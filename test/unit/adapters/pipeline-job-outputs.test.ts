import assert from 'node:assert/strict';
import { PermanentError, TransientError, type ErrorCode } from '../../../shared/errors.js';
import {
  inspectPipelineJob,
  toResolvedPipelineJob,
  type InspectOptions,
  type PipelineJobInput,
  type PushedModelDraft,
} from '../../../shared/adapters/gcp/pipeline-job-outputs.js';
import type { ResolvedPipelineJob } from '../../../shared/ports/pipeline-jobs.port.js';
import {
  DEFAULT_JOB_NAME,
  evaluatorTask,
  pipelineJob,
  pusherTask,
  structOf,
} from '../../support/fakes/vertex-fake.js';

function draftOf(job: PipelineJobInput, options?: InspectOptions): PushedModelDraft {
  const inspection = inspectPipelineJob(job, options);
  if (inspection.kind !== 'pushed_model') assert.fail(JSON.stringify(inspection));
  return inspection;
}

function resolve(job: PipelineJobInput, options?: InspectOptions): ResolvedPipelineJob {
  const inspection = inspectPipelineJob(job, options);
  return inspection.kind === 'nothing_to_deploy' ? inspection : toResolvedPipelineJob(inspection);
}

function messageOf(job: PipelineJobInput, options?: InspectOptions) {
  const resolved = resolve(job, options);
  if (resolved.kind !== 'pushed') assert.fail(JSON.stringify(resolved));
  return resolved.message;
}

function nothingReason(job: PipelineJobInput, options?: InspectOptions): string {
  const inspection = inspectPipelineJob(job, options);
  assert.equal(inspection.kind, 'nothing_to_deploy', JSON.stringify(inspection));
  assert.equal(inspection.pipelineJob, job.name);
  return (inspection as { reason: string }).reason;
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return assert.fail('expected a throw');
}

function assertPermanent(error: unknown, code: ErrorCode, message: RegExp): void {
  assert.ok(error instanceof PermanentError, String(error));
  assert.equal(error.code, code);
  assert.match(error.message, message);
}

describe('pipeline job outputs', () => {
  describe('a SUCCEEDED job that pushed', () => {
    it('becomes a training-completed message from its parameters, blessing and Pusher', () => {
      const resolved = resolve(
        pipelineJob({
          tasks: [
            evaluatorTask({ blessed: 1, metadata: { recall_at_100: 0.97 } }),
            pusherTask({ version: '1768842986' }),
          ],
        }),
      );
      assert.deepEqual(resolved, {
        kind: 'pushed',
        pipelineJob: DEFAULT_JOB_NAME,
        message: {
          schema_version: '1',
          training_run_id: 'recs-two-tower-20260119120000',
          model_endpoint_id: 'ep-1',
          model_slug: 'recs-two-tower',
          run_number: 1768842986,
          model_type: 'retrieval',
          retrieval_algorithm: 'brute_force',
          artifact_uri: 'gs://bucket/serving/pushed_model/1768842986',
          is_blessed: true,
          metrics: { recall_at_100: 0.97 },
          completed_at: '2026-01-19T16:49:46.000Z',
        },
      });
    });

    it('exposes the pushed destination for reading the bundle metrics, which win', () => {
      const draft = draftOf(
        pipelineJob({
          tasks: [
            evaluatorTask({ blessed: 1, metadata: { recall_at_100: 0.5, auc: 0.8 } }),
            pusherTask(),
          ],
        }),
      );
      assert.equal(draft.pushedDestination, 'gs://bucket/serving/pushed_model/1768842986');
      const resolved = toResolvedPipelineJob(draft, { recall_at_100: 0.97, ndcg: 0.4 });
      assert.equal(resolved.kind, 'pushed');
      assert.deepEqual(resolved.kind === 'pushed' && resolved.message.metrics, {
        recall_at_100: 0.97,
        auc: 0.8,
        ndcg: 0.4,
      });
    });

    it('accepts a file:// destination', () => {
      const job = pipelineJob({ tasks: [pusherTask({ destination: 'file:///models/ep-1/7' })] });
      assert.equal(messageOf(job).artifact_uri, 'file:///models/ep-1/7');
    });

    it('a cached (SKIPPED) Pusher that pushed still counts as pushed', () => {
      const job = pipelineJob({ tasks: [pusherTask({ state: 'SKIPPED' })] });
      assert.equal(messageOf(job).artifact_uri, 'gs://bucket/serving/pushed_model/1768842986');
    });
  });

  describe('failed and unfinished jobs', () => {
    for (const state of ['PIPELINE_STATE_FAILED', 'PIPELINE_STATE_CANCELLED']) {
      it(`${state} → nothing to deploy, with the job's error message`, () => {
        const job = pipelineJob({ state, error: { code: 9, message: 'Trainer exited with 1' } });
        assert.equal(
          nothingReason(job),
          `pipeline job ${DEFAULT_JOB_NAME} ended ${state}: Trainer exited with 1`,
        );
      });
    }

    it('a FAILED job without an error says so', () => {
      const job = pipelineJob({ state: 'PIPELINE_STATE_FAILED', error: null });
      assert.match(nothingReason(job), /ended PIPELINE_STATE_FAILED: no error message$/);
    });

    for (const state of [
      'PIPELINE_STATE_RUNNING',
      'PIPELINE_STATE_CANCELLING',
      'PIPELINE_STATE_QUEUED',
    ]) {
      it(`${state} → TransientError PIPELINE.NOT_FINISHED`, () => {
        const error = thrown(() => inspectPipelineJob(pipelineJob({ state })));
        assert.ok(error instanceof TransientError);
        assert.equal(error.code, 'PIPELINE.NOT_FINISHED');
        assert.equal(
          error.message,
          `pipeline job ${DEFAULT_JOB_NAME} is ${state}, not finished yet; try again later`,
        );
      });
    }

    it('reads a numeric state too (RUNNING = 3, SUCCEEDED = 4)', () => {
      const running = thrown(() => inspectPipelineJob({ ...pipelineJob(), state: 3 }));
      assert.ok(running instanceof TransientError);
      assert.match(running.message, /is PIPELINE_STATE_RUNNING/);
      assert.equal(inspectPipelineJob({ ...pipelineJob(), state: 4 }).kind, 'pushed_model');
    });
  });

  describe('SUCCEEDED without a push', () => {
    it('pushed = 0 → nothing to deploy, with the blessing', () => {
      const job = pipelineJob({
        tasks: [evaluatorTask({ blessed: 0 }), pusherTask({ pushed: 0 })],
      });
      assert.equal(
        nothingReason(job),
        'Pusher task Pusher did not push (pushed = 0) (blessed = 0)',
      );
    });

    it('blessed but not pushed (InfraValidator said no) is still nothing to deploy', () => {
      const job = pipelineJob({
        tasks: [evaluatorTask({ blessed: 1 }), pusherTask({ pushed: 0 })],
      });
      assert.equal(
        nothingReason(job),
        'Pusher task Pusher did not push (pushed = 0) (blessed = 1)',
      );
    });

    it('a NOT_TRIGGERED Pusher → nothing to deploy', () => {
      const job = pipelineJob({
        tasks: [evaluatorTask({ blessed: 0 }), pusherTask({ state: 'NOT_TRIGGERED' })],
      });
      assert.equal(
        nothingReason(job),
        'Pusher task Pusher was NOT_TRIGGERED (its condition, e.g. blessing, was not met) (blessed = 0)',
      );
    });

    it('no Pusher task → nothing to deploy', () => {
      const job = pipelineJob({ tasks: [evaluatorTask({ blessed: 1 })] });
      assert.equal(
        nothingReason(job),
        `pipeline job ${DEFAULT_JOB_NAME} has no Pusher task (no task outputs a tfx.PushedModel ` +
          'pushed_model) (blessed = 1)',
      );
    });

    it('a pushed_model artifact of another type is not a Pusher', () => {
      const task = pusherTask();
      const artifact = task.outputs.pushed_model?.artifacts[0];
      assert.ok(artifact);
      artifact.schemaTitle = 'system.Model';
      assert.match(nothingReason(pipelineJob({ tasks: [task] })), /has no Pusher task/);
    });

    it('pushed as the string "1" is not a push (numbers are numbers)', () => {
      const task = pusherTask();
      const metadata = task.outputs.pushed_model?.artifacts[0]?.metadata;
      assert.ok(metadata);
      metadata.fields.pushed = { stringValue: '1', kind: 'stringValue' };
      assert.equal(
        nothingReason(pipelineJob({ tasks: [task] })),
        'Pusher task Pusher did not push (pushed = absent) (no blessed value recorded)',
      );
    });
  });

  describe('choosing the Pusher', () => {
    const two = [
      pusherTask({ taskName: 'PusherA', destination: 'gs://bucket/a/1' }),
      pusherTask({ taskName: 'PusherB', destination: 'gs://bucket/b/1' }),
    ];

    it('two Pushers that pushed and none configured → PIPELINE.INVALID naming both', () => {
      const error = thrown(() => inspectPipelineJob(pipelineJob({ tasks: two })));
      assertPermanent(
        error,
        'PIPELINE.INVALID',
        /has 2 Pushers that pushed \(PusherA, PusherB\): configure which one to deploy \(pusherTask\)/,
      );
    });

    it('the configured Pusher is used', () => {
      const job = pipelineJob({ tasks: two });
      assert.equal(messageOf(job, { pusherTask: 'PusherB' }).artifact_uri, 'gs://bucket/b/1');
    });

    it('of two Pushers, the one that pushed is used', () => {
      const job = pipelineJob({
        tasks: [pusherTask({ taskName: 'PusherA', pushed: 0 }), two[1] ?? pusherTask()],
      });
      assert.equal(messageOf(job).artifact_uri, 'gs://bucket/b/1');
    });

    it('a configured Pusher the job lacks → nothing to deploy', () => {
      assert.equal(
        nothingReason(pipelineJob(), { pusherTask: 'ServingPusher' }),
        `pipeline job ${DEFAULT_JOB_NAME} has no task named ServingPusher (the configured Pusher) ` +
          '(blessed = 1)',
      );
    });

    it('a destination that is not gs:// or file:// → PIPELINE.INVALID', () => {
      const destination = 'projects/1/locations/europe-west1/endpoints/42';
      const job = pipelineJob({ tasks: [pusherTask({ destination })] });
      assertPermanent(
        thrown(() => inspectPipelineJob(job)),
        'PIPELINE.INVALID',
        new RegExp(
          `Pusher task Pusher of pipeline job .* pushed to "${destination}", not a gs:// or file:// directory`,
        ),
      );
    });

    it('a destination whose path climbs or hides a ".." → PIPELINE.INVALID before anything reads it', () => {
      const cases: [string, RegExp][] = [
        ['gs://models/ep-1/../../other', /segment 2 of 4, "\.\.": "\.\." segments climb/],
        ['gs://models/ep-1/%2e%2e/x', /"%2e%2e": percent-decoded it is "\.\."/],
        ['gs://models//x', /segment 1 of 2, "": empty segments/],
        ['file:///models/ep-1/../../etc', /has an unsafe path: segment 3 of 5, "\.\."/],
      ];
      for (const [destination, reason] of cases) {
        const job = pipelineJob({ tasks: [pusherTask({ destination })] });
        const error = thrown(() => inspectPipelineJob(job));
        assertPermanent(
          error,
          'PIPELINE.INVALID',
          new RegExp(`pushed to ${JSON.stringify(destination).replace(/[.%]/g, '\\$&')}, which `),
        );
        assert.match((error as Error).message, reason);
      }
    });

    it('a Pusher that pushed without a destination → PIPELINE.INVALID', () => {
      const task = pusherTask();
      const fields = task.outputs.pushed_model?.artifacts[0]?.metadata.fields;
      assert.ok(fields);
      delete fields.pushed_destination;
      assertPermanent(
        thrown(() => inspectPipelineJob(pipelineJob({ tasks: [task] }))),
        'PIPELINE.INVALID',
        /pushed to no pushed_destination, not a gs:\/\/ or file:\/\/ directory/,
      );
    });
  });

  describe('blessing', () => {
    it('blessed = 0 is read as a number, not as a missing value (the falsy trap)', () => {
      const job = pipelineJob({ tasks: [evaluatorTask({ blessed: 0 }), pusherTask()] });
      assert.equal(messageOf(job).is_blessed, false);
    });

    it('values without `kind` (plain protobuf objects) are read by the member that is set', () => {
      const evaluator = evaluatorTask({ blessed: 0 });
      const fields = evaluator.outputs.blessing?.artifacts[0]?.metadata.fields;
      assert.ok(fields);
      fields.blessed = { numberValue: 0 };
      const job = pipelineJob({ tasks: [evaluator, pusherTask()] });
      assert.equal(messageOf(job).is_blessed, false);
    });

    it('no blessed value (no thresholds) → blessed, as the Pusher only pushes allowed models', () => {
      const job = pipelineJob({ tasks: [evaluatorTask(), pusherTask()] });
      assert.equal(messageOf(job).is_blessed, true);
    });

    it('no Evaluator → blessed, no metrics', () => {
      const message = messageOf(pipelineJob({ tasks: [pusherTask()] }));
      assert.equal(message.is_blessed, true);
      assert.deepEqual(message.metrics, {});
    });

    it('metrics are the numeric blessing metadata other than blessed', () => {
      const job = pipelineJob({
        tasks: [
          evaluatorTask({ blessed: 1, metadata: { recall_at_10: 0, baseline_model: 'gs://x' } }),
          pusherTask(),
        ],
      });
      assert.deepEqual(messageOf(job).metrics, { recall_at_10: 0 });
    });

    it('of several Evaluators, the one named Evaluator decides', () => {
      const job = pipelineJob({
        tasks: [
          evaluatorTask({ taskName: 'ShadowEvaluator', blessed: 1 }),
          evaluatorTask({ blessed: 0 }),
          pusherTask(),
        ],
      });
      assert.equal(messageOf(job).is_blessed, false);
    });

    it('several Evaluators, none named Evaluator → PIPELINE.INVALID', () => {
      const job = pipelineJob({
        tasks: [
          evaluatorTask({ taskName: 'EvalA', blessed: 1 }),
          evaluatorTask({ taskName: 'EvalB' }),
          pusherTask(),
        ],
      });
      assertPermanent(
        thrown(() => inspectPipelineJob(job)),
        'PIPELINE.INVALID',
        /has 2 Evaluators \(EvalA, EvalB\) and none is named Evaluator/,
      );
    });
  });

  describe('identity', () => {
    it('reads the deprecated typed parameters (int64 as a string)', () => {
      const job = pipelineJob({
        parameters: {
          model_endpoint_id: 'ep-7',
          training_run_id: 'Run.7',
          model_slug: 'home-recs',
          run_number: 7,
          model_type: 'ranking',
          retrieval_algorithm: 'hnsw',
        },
      });
      const message = messageOf(job);
      assert.deepEqual(
        [
          message.model_endpoint_id,
          message.training_run_id,
          message.model_slug,
          message.run_number,
        ],
        ['ep-7', 'Run.7', 'home-recs', 7],
      );
      assert.deepEqual([message.model_type, message.retrieval_algorithm], ['ranking', 'hnsw']);
    });

    it('reads parameterValues (schema 2.1.0), which win over the deprecated form', () => {
      const job = pipelineJob({
        parameters: { model_endpoint_id: 'ep-old', run_number: 1 },
        parameterValues: { model_endpoint_id: 'ep-new', run_number: 12 },
      });
      const message = messageOf(job);
      assert.equal(message.model_endpoint_id, 'ep-new');
      assert.equal(message.run_number, 12);
    });

    it('falls back to job labels', () => {
      const job = pipelineJob({
        parameters: {},
        labels: { model_endpoint_id: 'ep-label', training_run_id: 'run-label', run_number: '5' },
      });
      const message = messageOf(job);
      assert.deepEqual(
        [message.model_endpoint_id, message.training_run_id, message.run_number],
        ['ep-label', 'run-label', 5],
      );
    });

    it('parameters win over labels', () => {
      const job = pipelineJob({ labels: { model_endpoint_id: 'ep-label' } });
      assert.equal(messageOf(job).model_endpoint_id, 'ep-1');
    });

    it('model_slug defaults to the sanitised pipeline name, else the display name', () => {
      assert.equal(
        messageOf(pipelineJob({ pipelineName: 'Recs Two-Tower (EU)' })).model_slug,
        'recs_two-tower__eu_',
      );
      assert.equal(
        messageOf(pipelineJob({ pipelineName: undefined, displayName: '__Nightly' })).model_slug,
        'nightly',
      );
    });

    it('run_number is 0 when nothing gives one', () => {
      const task = pusherTask();
      const fields = task.outputs.pushed_model?.artifacts[0]?.metadata.fields;
      assert.ok(fields);
      delete fields.pushed_version;
      assert.equal(messageOf(pipelineJob({ tasks: [task] })).run_number, 0);
    });

    it('a pushed_version that is not an integer gives run_number 0', () => {
      const job = pipelineJob({ tasks: [pusherTask({ version: 'v1.2' })] });
      assert.equal(messageOf(job).run_number, 0);
    });

    it('no end time → no completed_at; nanos are kept to the millisecond', () => {
      assert.equal('completed_at' in messageOf(pipelineJob({ endTime: null })), false);
      const job = { ...pipelineJob(), endTime: { seconds: '1768841386', nanos: 250_000_000 } };
      assert.equal(messageOf(job).completed_at, '2026-01-19T16:49:46.250Z');
    });

    it('no model_endpoint_id → PIPELINE.INVALID naming the parameter or label to add', () => {
      const job = pipelineJob({ parameters: { epochs: 3 } });
      assertPermanent(
        thrown(() => inspectPipelineJob(job)),
        'PIPELINE.INVALID',
        /does not say which model endpoint it trains: add a runtime parameter or a job label named model_endpoint_id$/,
      );
    });

    it('values the schema refuses → PIPELINE.INVALID with the schema reason', () => {
      const job = pipelineJob({
        parameters: { model_endpoint_id: 'ep-1', model_type: 'clustering' },
      });
      const error = thrown(() => resolve(job));
      assertPermanent(
        error,
        'PIPELINE.INVALID',
        /does not make a valid training-completed message: .*model_type/,
      );
    });

    it('a run_number parameter that is not an integer is refused by the schema', () => {
      const job = pipelineJob({ parameters: { model_endpoint_id: 'ep-1', run_number: 'seven' } });
      assertPermanent(
        thrown(() => resolve(job)),
        'PIPELINE.INVALID',
        /run_number/,
      );
    });

    it('a parameter named like an Object.prototype member is not invented', () => {
      const job = {
        ...pipelineJob(),
        labels: Object.create({ model_type: 'ranking' }) as Record<string, string>,
      };
      assert.equal(messageOf(job).model_type, 'retrieval');
    });
  });

  it('the pipelineSpec Struct is read through its fields', () => {
    const job = {
      ...pipelineJob(),
      pipelineSpec: structOf({ pipelineInfo: { name: 'other-name' } }),
    };
    assert.equal(messageOf(job).model_slug, 'other-name');
  });
});
