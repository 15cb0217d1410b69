import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { PermanentError, RecordingLogger, TransientError } from '@recdeploy/shared';
import { VertexModelRegistry } from '../../shared/adapters/gcp/vertex-model-registry.js';
import { registryLabels } from '../../shared/domain/registry-labels.js';
import type { RegisterModelRequest } from '../../shared/ports/model-registry.port.js';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';
import { VertexFake } from '../support/fakes/vertex-fake.js';

const IMAGE = 'europe-docker.pkg.dev/p/recdeploy/ann-serving:1.0.0';

function registerRequest(
  run: string,
  overrides: Partial<RegisterModelRequest> = {},
): RegisterModelRequest {
  return {
    runId: `ep-1-${run}`,
    modelEndpointId: 'ep-1',
    trainingRunId: run,
    displayName: 'home-recs',
    description: 'two-tower retrieval for the home page',
    artifactUri: `gs://models/ep-1/${run}`,
    labels: registryLabels({
      runId: `ep-1-${run}`,
      trainingRunId: run,
      modelEndpointId: 'ep-1',
      modelType: 'retrieval',
      retrievalAlgorithm: 'hnsw',
      isBlessed: true,
      runNumber: 3,
      metrics: { recall_at_100: 0.9731 },
      runtime: 'ann-serving',
    }),
    container: {
      imageUri: IMAGE,
      // Deliberately unsorted: the request must list them by name.
      env: { MODEL_PATH: `gs://models/ep-1/${run}`, MODEL_NAME: 'home-recs', ANN_MODE: 'ann' },
      port: 8501,
      predictRoute: '/v1/models/home-recs:predict',
      healthRoute: '/v1/models/home-recs',
    },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('VertexModelRegistry over real gRPC to a fake ModelService', () => {
  let fake: VertexFake;
  let logger: RecordingLogger;
  let registry: VertexModelRegistry;

  beforeEach(async () => {
    fake = new VertexFake({ project: 'test-project', location: 'europe-west1' });
    const port = await fake.start();
    logger = new RecordingLogger();
    registry = new VertexModelRegistry({
      projectId: 'test-project',
      region: 'europe-west1',
      logger,
      clientOptions: fakeClientOptions(port),
    });
  });

  afterEach(async () => {
    await registry.close();
    await fake.stop();
  });

  it('uploads the first run of an endpoint as a new model, exactly as described', async () => {
    const request = registerRequest('run-1');
    const registered = await registry.registerModel(request);

    const [model] = fake.modelNames();
    assert.deepEqual(registered, { model, version: '1', reused: false, newModel: true });
    assert.deepEqual(
      fake.listModelsRequests.map((r) => [r.parent, r.filter]),
      [['projects/test-project/locations/europe-west1', 'labels.model_endpoint_id="ep-1"']],
    );
    assert.equal(fake.calls.ListModelVersions, undefined, 'no model yet, no versions to search');
    assert.equal(fake.uploads.length, 1);
    const [upload] = fake.uploads;
    assert.equal(upload?.parent, 'projects/test-project/locations/europe-west1');
    assert.equal(upload?.parentModel, '');
    assert.equal(upload?.modelId, '');
    const sent = upload?.model;
    assert.equal(sent?.displayName, 'home-recs');
    assert.equal(sent?.description, 'two-tower retrieval for the home page');
    assert.equal(sent?.artifactUri, 'gs://models/ep-1/run-1');
    assert.equal(sent?.versionDescription, 'training run run-1');
    assert.deepEqual(sent?.versionAliases, []);
    assert.deepEqual(sent?.labels, {
      training_run_id: 'run-1',
      model_endpoint_id: 'ep-1',
      model_type: 'retrieval',
      retrieval_algorithm: 'hnsw',
      is_blessed: 'true',
      run_number: '3',
      runtime: 'ann-serving',
      managed_by: 'recdeploy',
      recall_at_100: '0_9731',
    });
    assert.deepEqual(sent?.labels, request.labels);
    const spec = sent?.containerSpec;
    assert.equal(spec?.imageUri, IMAGE);
    assert.deepEqual(spec?.env, [
      { name: 'ANN_MODE', value: 'ann' },
      { name: 'MODEL_NAME', value: 'home-recs' },
      { name: 'MODEL_PATH', value: 'gs://models/ep-1/run-1' },
    ]);
    assert.deepEqual(spec?.ports, [{ containerPort: 8501 }]);
    assert.equal(spec?.predictRoute, '/v1/models/home-recs:predict');
    assert.equal(spec?.healthRoute, '/v1/models/home-recs');
    // The upload answered "not done": the client had to poll the operation.
    assert.equal(fake.calls.GetOperation, 1);
  });

  it('waits through several "not done" polls of the upload operation', async () => {
    fake.operationPollsBeforeDone = 2;
    const registered = await registry.registerModel(registerRequest('run-1'));
    assert.equal(registered.version, '1');
    assert.equal(fake.calls.GetOperation, 3);
  });

  it('uploads a later run as a new version of the endpoint model (exact parentModel)', async () => {
    const first = await registry.registerModel(registerRequest('run-1'));
    const second = await registry.registerModel(registerRequest('run-2'));

    assert.deepEqual(second, { model: first.model, version: '2', reused: false, newModel: false });
    assert.equal(fake.uploads[1]?.parentModel, first.model);
    const lookup = fake.listModelVersionsRequests.at(-1);
    assert.deepEqual(
      [lookup?.name, lookup?.filter],
      [first.model, 'labels.training_run_id="run-2"'],
    );
    assert.deepEqual(
      fake.versionsOf(first.model).map((v) => [v.versionId, v.labels.training_run_id]),
      [
        ['1', 'run-1'],
        ['2', 'run-2'],
      ],
    );
  });

  it('reuses the version carrying the run label instead of uploading again', async () => {
    const first = await registry.registerModel(registerRequest('run-1'));
    const again = await registry.registerModel(registerRequest('run-1'));

    assert.deepEqual(again, { model: first.model, version: '1', reused: true, newModel: false });
    assert.equal(fake.uploads.length, 1);
    assert.equal(fake.versionsOf(first.model).length, 1);
  });

  it('after an ambiguous upload failure, finds the version the upload created', async () => {
    fake.failNext('UploadModel', grpc.status.DEADLINE_EXCEEDED, { afterEffect: true });
    const registered = await registry.registerModel(registerRequest('run-1'));

    const [model] = fake.modelNames();
    assert.deepEqual(registered, { model, version: '1', reused: true, newModel: true });
    assert.equal(fake.uploads.length, 1);
    assert.equal(fake.calls.ListModels, 2, 'the endpoint models were read again');
    assert.ok(
      logger.lines.some(
        (l) => l.level === 'warn' && /failed ambiguously but the version exists/.test(l.message),
      ),
    );
  });

  it('after an ambiguous failure that did not upload, reports a transient error; the retry uploads once', async () => {
    fake.failNext('UploadModel', grpc.status.DEADLINE_EXCEEDED, { details: 'deadline' });
    const error = await rejection(registry.registerModel(registerRequest('run-1')));

    assert.ok(error instanceof TransientError);
    assert.equal(error.code, 'DEPENDENCY.UNAVAILABLE');
    assert.equal(error.metadata.ambiguous, true);
    assert.match(error.message, /^Vertex AI uploadModel failed: deadline$/);
    assert.deepEqual(fake.modelNames(), []);

    const registered = await registry.registerModel(registerRequest('run-1'));
    assert.equal(registered.reused, false);
    assert.equal(fake.uploads.length, 2);
    assert.equal(fake.versionsOf(registered.model).length, 1);
  });

  it('a failure while polling a started upload also re-reads before failing', async () => {
    fake.failNext('GetOperation', grpc.status.UNAVAILABLE);
    const registered = await registry.registerModel(registerRequest('run-1'));

    assert.equal(registered.reused, true);
    assert.equal(registered.newModel, true);
    assert.equal(fake.uploads.length, 1);
  });

  it('maps INVALID_ARGUMENT to PermanentError REGISTRY.REJECTED with the API message', async () => {
    fake.failNext('UploadModel', grpc.status.INVALID_ARGUMENT, { details: 'bad image uri' });
    const error = await rejection(registry.registerModel(registerRequest('run-1')));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'REGISTRY.REJECTED');
    assert.equal(error.message, 'Vertex AI uploadModel failed: bad image uri');
    assert.equal(fake.calls.ListModels, 1, 'a definite refusal is not re-read');
  });

  it('maps UNAVAILABLE to TransientError (upload and lookups alike)', async () => {
    fake.failNext('UploadModel', grpc.status.UNAVAILABLE, { details: 'backend down' });
    const upload = await rejection(registry.registerModel(registerRequest('run-1')));
    assert.ok(upload instanceof TransientError);
    assert.equal(upload.code, 'DEPENDENCY.UNAVAILABLE');
    assert.equal(upload.metadata.ambiguous, false);

    fake.failNext('ListModels', grpc.status.UNAVAILABLE, { details: 'backend down' });
    const lookup = await rejection(registry.registerModel(registerRequest('run-1')));
    assert.ok(lookup instanceof TransientError);
    assert.equal(lookup.message, 'Vertex AI listModels failed: backend down');
    assert.equal(fake.uploads.length, 1);
  });

  it('with several models for one endpoint, adds versions to the oldest and warns', async () => {
    const oldest = fake.seedModel([
      { labels: { model_endpoint_id: 'ep-1', training_run_id: 'run-a' } },
    ]);
    fake.seedModel([{ labels: { model_endpoint_id: 'ep-1', training_run_id: 'run-b' } }]);

    const registered = await registry.registerModel(registerRequest('run-3'));
    assert.deepEqual(registered, { model: oldest, version: '2', reused: false, newModel: false });
    assert.equal(fake.uploads[0]?.parentModel, oldest);
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /several models/.test(l.message)));
  });

  it('finds the run in a newer model of the endpoint too: never two versions for one run', async () => {
    fake.seedModel([{ labels: { model_endpoint_id: 'ep-1', training_run_id: 'run-a' } }]);
    const newer = fake.seedModel([
      {
        labels: { model_endpoint_id: 'ep-1', training_run_id: 'run-1' },
        artifactUri: 'gs://models/ep-1/run-1',
      },
    ]);

    const registered = await registry.registerModel(registerRequest('run-1'));
    assert.deepEqual(registered, { model: newer, version: '1', reused: true, newModel: false });
    assert.equal(fake.uploads.length, 0);
  });

  it('refuses to reuse a version of the same label that holds another artifact', async () => {
    const model = fake.seedModel([
      {
        labels: { model_endpoint_id: 'ep-1', training_run_id: 'run_1' },
        artifactUri: 'gs://models/ep-1/run_1',
      },
    ]);
    // "Run.1" sanitises to the label of the stored run_1.
    const error = await rejection(
      registry.registerModel(
        registerRequest('Run.1', { runId: 'ep-1-Run.1', artifactUri: 'gs://models/ep-1/Run.1' }),
      ),
    );

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'REGISTRY.REJECTED');
    assert.equal(
      error.message,
      `version 1 of ${model} already carries training_run_id label "run_1" but holds ` +
        'gs://models/ep-1/run_1, not gs://models/ep-1/Run.1: another run whose id sanitises to ' +
        'the same label, or run ep-1-Run.1 republished with a different artifact',
    );
    assert.equal(fake.uploads.length, 0);
  });

  it('refuses a request without the lookup labels before calling the API', async () => {
    const labels = { ...registerRequest('run-1').labels };
    delete labels.training_run_id;
    const error = await rejection(registry.registerModel(registerRequest('run-1', { labels })));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'REGISTRY.REJECTED');
    assert.match(
      error.message,
      /^register request for run ep-1-run-1 has no training_run_id label/,
    );
    assert.deepEqual(fake.calls, {});
  });
});
