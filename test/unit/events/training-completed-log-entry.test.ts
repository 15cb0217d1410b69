import assert from 'node:assert/strict';
import { parseTrainingCompleted, parseTrainingCompletedPayload } from '@recdeploy/events';
import {
  pipelineLogEntryExample,
  pipelineLogEntryWithState,
} from '../../fixtures/events/examples.js';
import { messagePublished } from '../../fixtures/events/deliveries.js';
import { rejectionOf, valueOf } from '../../fixtures/events/results.js';

describe('parseTrainingCompleted: the Vertex AI PipelineJob LogEntry', () => {
  const jobName =
    'projects/recs-prod/locations/europe-west1/pipelineJobs/recs-two-tower-20260119120000';

  it('turns PIPELINE_STATE_SUCCEEDED into a job to resolve, keyed by the job resource name', () => {
    const value = valueOf(parseTrainingCompleted(messagePublished(pipelineLogEntryExample())));
    assert.deepEqual(
      { ...value, delivery: undefined },
      {
        kind: 'resolve_pipeline_job',
        idempotencyKey: jobName,
        pipelineJobId: 'recs-two-tower-20260119120000',
        project: 'recs-prod',
        location: 'europe-west1',
        pipelineJobName: jobName,
        delivery: undefined,
      },
    );
  });

  it('trusts only the labels and the state: nothing else from the entry reaches the result', () => {
    const entry = pipelineLogEntryExample();
    (entry.jsonPayload as Record<string, unknown>).artifact_uri = 'gs://attacker/model';
    const value = valueOf(parseTrainingCompletedPayload(entry));
    assert.equal(JSON.stringify(value).includes('attacker'), false);
  });

  it('keys by the bare job id when project and location labels are absent', () => {
    const entry = pipelineLogEntryExample();
    entry.resource = {
      type: 'aiplatform.googleapis.com/PipelineJob',
      labels: { pipeline_job_id: 'job-1' },
    };
    const value = valueOf(parseTrainingCompletedPayload(entry));
    assert.equal(value.idempotencyKey, 'job-1');
    assert.equal('pipelineJobName' in value, false);
  });

  it('is recognised by its log name even when the resource type is wrong, and then rejected precisely', () => {
    const entry = pipelineLogEntryExample();
    entry.resource = { type: 'global', labels: {} };
    const rejection = rejectionOf(parseTrainingCompletedPayload(entry));
    assert.equal(rejection.code, 'EVENT.INVALID');
    assert.equal(rejection.kind, 'Vertex PipelineJob log entry');
    assert.match(
      rejection.reason,
      /^invalid Vertex PipelineJob log entry: \/resource\/type: Expected 'aiplatform.googleapis.com\/PipelineJob', got "global"/,
    );
  });

  const otherStates = [
    'PIPELINE_STATE_FAILED',
    'PIPELINE_STATE_CANCELLED',
    'PIPELINE_STATE_RUNNING',
    'PIPELINE_STATE_PENDING',
    'PIPELINE_STATE_CANCELLING',
    'SOMETHING_NEW',
  ];
  for (const state of otherStates) {
    it(`acknowledges ${state} as ignored, with the reason and the job key`, () => {
      const rejection = rejectionOf(
        parseTrainingCompleted(messagePublished(pipelineLogEntryWithState(state))),
      );
      assert.deepEqual(
        {
          code: rejection.code,
          reason: rejection.reason,
          kind: rejection.kind,
          key: rejection.idempotencyKey,
          id: rejection.eventId,
        },
        {
          code: 'EVENT.IGNORED',
          reason: `pipeline job state ${state} does not start a deployment`,
          // A state Vertex does not define is not echoed into the kind (kinds stay a small set).
          kind:
            state === 'SOMETHING_NEW'
              ? 'Vertex PipelineJob in an unrecognised state'
              : `Vertex PipelineJob in state ${state.replace('PIPELINE_STATE_', '')}`,
          key: jobName,
          id: '9812345678901234',
        },
      );
    });
  }

  it('ignores an entry without jsonPayload.state', () => {
    const entry = pipelineLogEntryExample();
    delete entry.jsonPayload;
    const rejection = rejectionOf(parseTrainingCompletedPayload(entry));
    assert.equal(rejection.code, 'EVENT.IGNORED');
    assert.match(rejection.reason, /no jsonPayload.state/);
    assert.equal(rejection.kind, 'Vertex PipelineJob with no state');
  });

  it('ignores task-level entries even when they say SUCCEEDED', () => {
    const entry = pipelineLogEntryExample();
    entry.logName = 'projects/recs-prod/logs/aiplatform.googleapis.com%2Fpipeline_job_task_events';
    const rejection = rejectionOf(parseTrainingCompletedPayload(entry));
    assert.equal(rejection.code, 'EVENT.IGNORED');
    assert.match(rejection.reason, /pipeline_job_task_events/);
    assert.equal(rejection.kind, 'Vertex PipelineJob task log entry');
  });

  const badLabels: ReadonlyArray<[string, Record<string, unknown>, RegExp]> = [
    [
      'no job id',
      { location: 'us-central1' },
      /^\/resource\/labels\/pipeline_job_id: is required$/,
    ],
    [
      'an upper-case job id',
      { pipeline_job_id: 'Job_1' },
      /^\/resource\/labels\/pipeline_job_id: does not have the expected form/,
    ],
    [
      'an oversized job id',
      { pipeline_job_id: 'j'.repeat(200) },
      /^\/resource\/labels\/pipeline_job_id: Expected string length less or equal to 128/,
    ],
    [
      'a numeric location',
      { pipeline_job_id: 'j', location: 5 },
      /^\/resource\/labels\/location: Expected string, got 5$/,
    ],
  ];
  for (const [name, labels, reason] of badLabels) {
    it(`rejects an entry with ${name}`, () => {
      const entry = pipelineLogEntryExample();
      entry.resource = { type: 'aiplatform.googleapis.com/PipelineJob', labels };
      const rejection = rejectionOf(parseTrainingCompletedPayload(entry));
      assert.equal(rejection.code, 'EVENT.INVALID');
      assert.match(rejection.reason.replace(/^invalid Vertex PipelineJob log entry: /, ''), reason);
    });
  }

  it('rejects a non-string state rather than ignoring it', () => {
    const rejection = rejectionOf(
      parseTrainingCompletedPayload(pipelineLogEntryWithState(4 as unknown as string)),
    );
    assert.equal(rejection.code, 'EVENT.INVALID');
    assert.match(
      rejection.reason,
      /^invalid Vertex PipelineJob log entry: \/jsonPayload\/state: Expected string, got 4$/,
    );
  });
});
