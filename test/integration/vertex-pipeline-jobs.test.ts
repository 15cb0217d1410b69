import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { PermanentError, RecordingLogger, TransientError } from '@recdeploy/shared';
import {
  VertexPipelineJobs,
  pipelineJobLocation,
  vertexApiEndpoint,
  vertexClientOptions,
} from '../../shared/adapters/gcp/vertex-pipeline-jobs.js';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';
import {
  DEFAULT_JOB_NAME,
  VertexFake,
  evaluatorTask,
  pipelineJob,
  pusherTask,
} from '../support/fakes/vertex-fake.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('regional endpoint selection for Vertex AI clients', () => {
  it('names the regional endpoint of a location', () => {
    assert.equal(vertexApiEndpoint('europe-west4'), 'europe-west4-aiplatform.googleapis.com');
  });

  it('reads the location out of a pipeline job name', () => {
    assert.equal(pipelineJobLocation(DEFAULT_JOB_NAME), 'europe-west1');
    assert.equal(
      pipelineJobLocation('projects/p/locations/asia-northeast1/pipelineJobs/j-1'),
      'asia-northeast1',
    );
    assert.equal(pipelineJobLocation('recs-two-tower-20260119120000'), undefined);
    assert.equal(pipelineJobLocation('projects/p/locations/l/models/m'), undefined);
  });

  it('defaults apiEndpoint to the regional endpoint; injected options win', () => {
    assert.deepEqual(vertexClientOptions('us-east1'), {
      apiEndpoint: 'us-east1-aiplatform.googleapis.com',
    });
    assert.deepEqual(vertexClientOptions('us-east1', { port: 443, projectId: 'p' }), {
      apiEndpoint: 'us-east1-aiplatform.googleapis.com',
      port: 443,
      projectId: 'p',
    });
    assert.equal(
      vertexClientOptions('us-east1', { apiEndpoint: '127.0.0.1' }).apiEndpoint,
      '127.0.0.1',
    );
  });
});

describe('VertexPipelineJobs over real gRPC to a fake PipelineService', () => {
  let fake: VertexFake;
  let logger: RecordingLogger;
  let port: number;
  let metricReads: string[];
  let jobs: VertexPipelineJobs;

  beforeEach(async () => {
    fake = new VertexFake({ project: 'test-project', location: 'europe-west1' });
    port = await fake.start();
    logger = new RecordingLogger();
    metricReads = [];
    jobs = new VertexPipelineJobs({
      region: 'europe-west1',
      logger,
      clientOptions: fakeClientOptions(port),
      readMetrics: (destination) => {
        metricReads.push(destination);
        return Promise.resolve({ recall_at_100: 0.97, ndcg_at_10: 0.41 });
      },
    });
  });

  afterEach(async () => {
    await jobs.close();
    await fake.stop();
  });

  it('resolves a pushed job into the training-completed message', async () => {
    fake.addPipelineJob(
      pipelineJob({
        labels: { training_run_id: 'run-42', 'vertex-ai-pipelines-run-billing-id': '1' },
        parameters: { model_endpoint_id: 'ep-1', run_number: 42, retrieval_algorithm: 'hnsw' },
        tasks: [evaluatorTask({ blessed: 1, metadata: { recall_at_100: 0.5 } }), pusherTask()],
      }),
    );

    const resolved = await jobs.resolve(DEFAULT_JOB_NAME);

    assert.deepEqual(fake.getPipelineJobRequests, [DEFAULT_JOB_NAME]);
    assert.deepEqual(metricReads, ['gs://bucket/serving/pushed_model/1768842986']);
    assert.deepEqual(resolved, {
      kind: 'pushed',
      pipelineJob: DEFAULT_JOB_NAME,
      message: {
        schema_version: '1',
        training_run_id: 'run-42',
        model_endpoint_id: 'ep-1',
        model_slug: 'recs-two-tower',
        run_number: 42,
        model_type: 'retrieval',
        retrieval_algorithm: 'hnsw',
        artifact_uri: 'gs://bucket/serving/pushed_model/1768842986',
        is_blessed: true,
        metrics: { recall_at_100: 0.97, ndcg_at_10: 0.41 },
        completed_at: '2026-01-19T16:49:46.000Z',
      },
    });
  });

  it('returns nothing_to_deploy for a job that did not push, without reading metrics', async () => {
    fake.addPipelineJob(
      pipelineJob({
        tasks: [evaluatorTask({ blessed: 0 }), pusherTask({ state: 'NOT_TRIGGERED' })],
      }),
    );

    const resolved = await jobs.resolve(DEFAULT_JOB_NAME);
    assert.equal(resolved.kind, 'nothing_to_deploy');
    assert.match(
      resolved.kind === 'nothing_to_deploy' ? resolved.reason : '',
      /^Pusher task Pusher was NOT_TRIGGERED/,
    );
    assert.deepEqual(metricReads, []);
  });

  it('looks a bare job id up in the configured region of the client project', async () => {
    fake.addPipelineJob(pipelineJob());
    const resolved = await jobs.resolve('recs-two-tower-20260119120000');

    assert.deepEqual(fake.getPipelineJobRequests, [DEFAULT_JOB_NAME]);
    assert.equal(resolved.kind, 'pushed');
  });

  it('NOT_FOUND → PermanentError PIPELINE.NOT_FOUND', async () => {
    const name = 'projects/test-project/locations/europe-west1/pipelineJobs/gone-1';
    const error = await rejection(jobs.resolve(name));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PIPELINE.NOT_FOUND');
    assert.equal(error.message, `pipeline job ${name} not found in location europe-west1`);
  });

  it('a RUNNING job → TransientError PIPELINE.NOT_FINISHED', async () => {
    fake.addPipelineJob(pipelineJob({ state: 'PIPELINE_STATE_RUNNING', endTime: null }));
    const error = await rejection(jobs.resolve(DEFAULT_JOB_NAME));

    assert.ok(error instanceof TransientError);
    assert.equal(error.code, 'PIPELINE.NOT_FINISHED');
    assert.match(error.message, /is PIPELINE_STATE_RUNNING, not finished yet/);
  });

  it('UNAVAILABLE → TransientError; PERMISSION_DENIED → PermanentError PIPELINE.INVALID', async () => {
    fake.addPipelineJob(pipelineJob());
    fake.failNext('GetPipelineJob', grpc.status.UNAVAILABLE, { details: 'try later' });
    const passing = await rejection(jobs.resolve(DEFAULT_JOB_NAME));
    assert.ok(passing instanceof TransientError);
    assert.equal(passing.code, 'DEPENDENCY.UNAVAILABLE');
    assert.equal(passing.message, 'Vertex AI getPipelineJob failed: try later');

    fake.failNext('GetPipelineJob', grpc.status.PERMISSION_DENIED, {
      details: 'no aiplatform.pipelineJobs.get',
    });
    const refused = await rejection(jobs.resolve(DEFAULT_JOB_NAME));
    assert.ok(refused instanceof PermanentError);
    assert.equal(refused.code, 'PIPELINE.INVALID');
    assert.match(refused.message, /no aiplatform\.pipelineJobs\.get/);
  });

  it('refuses a name that is neither a job name nor an id, without calling the API', async () => {
    const error = await rejection(jobs.resolve('projects/p/pipelineJobs/x'));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PIPELINE.INVALID');
    assert.match(error.message, /^"projects\/p\/pipelineJobs\/x" is neither a pipeline job name/);
    assert.deepEqual(fake.getPipelineJobRequests, []);
  });

  it('uses the configured Pusher when a job has two', async () => {
    fake.addPipelineJob(
      pipelineJob({
        tasks: [
          pusherTask({ taskName: 'PusherA', destination: 'gs://bucket/a/1' }),
          pusherTask({ taskName: 'PusherB', destination: 'gs://bucket/b/1' }),
        ],
      }),
    );
    const configured = new VertexPipelineJobs({
      region: 'europe-west1',
      logger,
      clientOptions: fakeClientOptions(port),
      pusherTask: 'PusherB',
    });
    try {
      const resolved = await configured.resolve(DEFAULT_JOB_NAME);
      assert.equal(resolved.kind === 'pushed' && resolved.message.artifact_uri, 'gs://bucket/b/1');
    } finally {
      await configured.close();
    }
  });
});
