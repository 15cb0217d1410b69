/**
 * Version aliases on the Vertex fake over real gRPC (the rules in
 * test/support/fakes/vertex-model-versions.ts, each with its source), and
 * VertexModelRegistry.markServing on top of them.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ModelServiceClient } from '@google-cloud/aiplatform';
import { PermanentError, RecordingLogger } from '@recdeploy/shared';
import { VertexModelRegistry } from '../../shared/adapters/gcp/vertex-model-registry.js';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';
import { VertexFake } from '../support/fakes/vertex-fake.js';

describe('Vertex version aliases (fake ModelService over gRPC)', function () {
  this.timeout(30_000);
  let fake: VertexFake;
  let client: ModelServiceClient;
  let registry: VertexModelRegistry;
  let model: string;

  before(async () => {
    fake = new VertexFake();
    const port = await fake.start();
    client = new ModelServiceClient(fakeClientOptions(port));
    registry = new VertexModelRegistry({
      projectId: fake.project,
      region: fake.location,
      logger: new RecordingLogger(),
      clientOptions: fakeClientOptions(port),
    });
    model = fake.seedModel([{ labels: {} }, { labels: {} }, { labels: {} }]);
  });

  after(async () => {
    await registry?.close();
    await client?.close();
    await fake?.stop();
  });

  const code = async (promise: Promise<unknown>): Promise<number | undefined> =>
    promise.then(
      () => undefined,
      (error: unknown) => (error as { code?: number }).code,
    );

  it('refuses what the API refuses: no version id, a removed default, a malformed alias', async () => {
    const merge = (name: string, versionAliases: string[]) =>
      code(client.mergeVersionAliases({ name, versionAliases }));
    assert.equal(await merge(model, ['live']), grpc.status.INVALID_ARGUMENT);
    assert.equal(await merge(`${model}@1`, ['-default']), grpc.status.INVALID_ARGUMENT);
    assert.equal(await merge(`${model}@1`, ['7']), grpc.status.INVALID_ARGUMENT);
    assert.equal(await merge(`${model}@1`, ['Live']), grpc.status.INVALID_ARGUMENT);
    assert.equal(await merge(`${model}@9`, ['live']), grpc.status.NOT_FOUND);
    assert.deepEqual(fake.aliasesOf(model), { default: '1' }, 'nothing changed');
  });

  it('moves live and default together with markServing; GetModel resolves both', async () => {
    await registry.markServing({ model, version: '3' });
    assert.deepEqual(fake.aliasesOf(model), { default: '3', live: '3' });
    const [byAlias] = await client.getModel({ name: `${model}@live` });
    assert.equal(byAlias.versionId, '3');
    const [plain] = await client.getModel({ name: model });
    assert.equal(plain.versionId, '3', 'a model without @ is its default version');
    await registry.markServing({ model, version: '2' });
    assert.deepEqual(fake.aliasesOf(model), { default: '2', live: '2' });
    const last = fake.mergeVersionAliasesRequests.at(-1);
    assert.equal(last?.name, `${model}@2`);
  });

  it('refuses an unknown version as a permanent registry rejection', async () => {
    await assert.rejects(
      registry.markServing({ model, version: '9' }),
      (error: unknown) => error instanceof PermanentError && error.code === 'REGISTRY.REJECTED',
    );
  });
});
