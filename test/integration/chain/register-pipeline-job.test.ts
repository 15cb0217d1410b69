/**
 * The register step fed by a Cloud Logging sink: a Vertex AI PipelineJob
 * LogEntry is resolved through the real PipelineServiceClient (gRPC fake),
 * the model is uploaded through the real ModelServiceClient, the bundle is
 * inspected through the real Cloud Storage client (JSON fake). The run store
 * and bus are the embedded ones.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RecdeployError, RecordingLogger, runKey } from '@recdeploy/shared';
import {
  handleTrainingCompleted,
  loadChainConfig,
  type RegisterDeps,
} from '@recdeploy/shared/chain';
import {
  GcsArtifactStore,
  VertexModelRegistry,
  VertexPipelineJobs,
  readPushedMetrics,
} from '@recdeploy/shared/gcp';
import { LocalEventBus, SqliteRunStore } from '@recdeploy/shared/local';
import { messagePublished } from '../../fixtures/events/deliveries.js';
import { pipelineLogEntryExample } from '../../fixtures/events/examples.js';
import { fakeClientOptions } from '../../support/fakes/grpc-fake-server.js';
import { GcsJsonFake } from '../../support/fakes/gcs-json-fake.js';
import {
  VertexFake,
  evaluatorTask,
  pipelineJob,
  pusherTask,
} from '../../support/fakes/vertex-fake.js';
import { PushReceiver, decodeData } from '../../support/push-receiver.js';

const JOB = 'projects/recs-prod/locations/europe-west1/pipelineJobs/recs-two-tower-20260119120000';
const PUSHED = 'gs://bucket/serving/pushed_model/1768842986';

describe('register step resolving a Vertex pipeline job from a log-sink event', function () {
  this.timeout(30_000);
  let dir: string;
  let vertex: VertexFake;
  let gcs: GcsJsonFake;
  let receiver: PushReceiver;
  let deps: RegisterDeps;
  let runStore: SqliteRunStore;
  let bus: LocalEventBus;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'register-job-'));
    vertex = new VertexFake({ project: 'recs-prod', location: 'europe-west1' });
    const port = await vertex.start();
    gcs = new GcsJsonFake(['bucket']);
    await gcs.start();
    gcs.putObject('bucket', 'serving/pushed_model/1768842986/saved_model.pb', 'pb');
    gcs.putObject('bucket', 'serving/pushed_model/1768842986/ann/manifest.json', '{}');
    gcs.putObject(
      'bucket',
      'serving/pushed_model/1768842986/assets.extra/metrics.json',
      '{"recall_at_100": 0.91}',
    );
    receiver = new PushReceiver();
    const endpoint = await receiver.start();
    bus = new LocalEventBus({ file: path.join(dir, 'bus.db'), pollIntervalMs: 50 });
    bus.createTopic('model-registered');
    bus.createTopic('deployment-finished');
    bus.createSubscription({ name: 'probe', topic: 'model-registered', pushEndpoint: endpoint });
    bus.start();
    runStore = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
    const logger = new RecordingLogger();
    const artifacts = new GcsArtifactStore({ logger, storageOptions: gcs.storageOptions() });
    deps = {
      config: loadChainConfig({
        RECDEPLOY_BACKEND: 'gcp',
        GOOGLE_CLOUD_PROJECT: 'recs-prod',
        REGION: 'europe-west1',
      }),
      logger,
      runStore,
      eventBus: bus,
      artifacts,
      registry: new VertexModelRegistry({
        projectId: 'recs-prod',
        region: 'europe-west1',
        logger,
        clientOptions: fakeClientOptions(port),
      }),
      pipelineJobs: new VertexPipelineJobs({
        region: 'europe-west1',
        logger,
        clientOptions: fakeClientOptions(port),
        readMetrics: (destination) => readPushedMetrics(artifacts, destination),
      }),
      instanceId: 'test',
    };
  });

  afterEach(async () => {
    await Promise.allSettled([
      deps.registry.close(),
      deps.pipelineJobs?.close(),
      deps.artifacts.close(),
      bus.close(),
      runStore.close(),
    ]);
    await Promise.allSettled([vertex.stop(), gcs.stop(), receiver.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const logSinkEvent = (id = '5001') => messagePublished(pipelineLogEntryExample(), { id });

  it('registers the pushed model under the identity the job carries, then hands off', async () => {
    vertex.addPipelineJob(
      pipelineJob({
        name: JOB,
        labels: { training_run_id: 'run-42' },
        parameters: { model_endpoint_id: 'ep-1', run_number: 42, retrieval_algorithm: 'hnsw' },
        tasks: [evaluatorTask({ blessed: 1 }), pusherTask()],
      }),
    );
    await handleTrainingCompleted(deps, logSinkEvent());

    const run = await runStore.getRun(runKey({ modelEndpointId: 'ep-1', trainingRunId: 'run-42' }));
    assert.equal(run?.status, 'registered');
    assert.equal(run?.artifactUri, PUSHED);
    assert.deepEqual(run?.metrics, { recall_at_100: 0.91 });
    assert.equal(vertex.uploads.length, 1);
    const upload = vertex.uploads[0]!;
    assert.equal(upload.parent, 'projects/recs-prod/locations/europe-west1');
    assert.equal(upload.model?.artifactUri, PUSHED);
    assert.equal(upload.model?.labels?.training_run_id, 'run-42');
    assert.equal(upload.model?.labels?.recall_at_100, '0_91');
    assert.equal(upload.model?.labels?.runtime, 'ann-serving');
    assert.equal(
      upload.model?.containerSpec?.imageUri,
      'europe-west1-docker.pkg.dev/recs-prod/recdeploy/ann-serving:latest',
    );
    await receiver.waitFor(() => receiver.received.length === 1, 'model-registered');
    assert.deepEqual(decodeData(receiver.received[0]!), {
      schema_version: '1',
      run_id: 'ep-1-run-42',
      registry: { model: run?.registry?.model, version: run?.registry?.version },
      registered_at: (decodeData(receiver.received[0]!) as { registered_at: string }).registered_at,
    });
  });

  it('acknowledges and records a job that does not exist (it never will)', async () => {
    await handleTrainingCompleted(deps, logSinkEvent('5002'));
    const [record] = await runStore.listRejectedEvents(10);
    assert.equal(record?.eventId, '5002');
    assert.match(record?.reason ?? '', /PIPELINE\.NOT_FOUND/);
    assert.equal(vertex.uploads.length, 0);
  });

  it('asks for a retry while the job is still running', async () => {
    vertex.addPipelineJob(pipelineJob({ name: JOB, state: 'PIPELINE_STATE_RUNNING' }));
    const error = await handleTrainingCompleted(deps, logSinkEvent('5003')).then(
      () => assert.fail('expected a retry'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RecdeployError);
    assert.equal(error.code, 'PIPELINE.NOT_FINISHED');
    assert.equal(error.retryable, true);
    assert.deepEqual(await runStore.listRuns({}), []);
  });

  it('starts no run when the job finished without pushing a model, and records it as ignored', async () => {
    vertex.addPipelineJob(
      pipelineJob({
        name: JOB,
        tasks: [evaluatorTask({ blessed: 0 }), pusherTask({ state: 'NOT_TRIGGERED' })],
      }),
    );
    await handleTrainingCompleted(deps, logSinkEvent('5004'));
    assert.deepEqual(await runStore.listRuns({}), []);
    assert.deepEqual(
      (await runStore.listRejectedEvents(10)).map((e) => e.code),
      ['EVENT.IGNORED'],
    );
    assert.equal(vertex.uploads.length, 0);
  });
});
