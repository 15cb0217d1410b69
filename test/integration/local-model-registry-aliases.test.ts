/**
 * LocalModelRegistry's version aliases follow Vertex's rules
 * (shared/adapters/local/local-registry-aliases.ts): `default` on the first
 * version from the start, `live` and `default` moved together by
 * markServing, on one version at a time; a file of schema 1 gains them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PermanentError, RecordingLogger, type RegisterModelRequest } from '@recdeploy/shared';
import { LocalModelRegistry } from '@recdeploy/shared/local';

function request(trainingRun: string): RegisterModelRequest {
  return {
    runId: `ep-${trainingRun}`,
    modelEndpointId: 'ep',
    trainingRunId: trainingRun,
    displayName: 'Home Recs',
    artifactUri: `file:///models/ep/${trainingRun}`,
    labels: { model_endpoint_id: 'ep', training_run_id: trainingRun },
    container: {
      imageUri: 'local/ann-serving',
      port: 8501,
      predictRoute: '/v1/models/recs:predict',
      healthRoute: '/v1/models/recs',
    },
  };
}

describe('LocalModelRegistry version aliases', () => {
  let dir = '';
  let file = '';
  let registry: LocalModelRegistry;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-aliases-'));
    file = path.join(dir, 'registry.db');
    registry = new LocalModelRegistry({ file, logger: new RecordingLogger() });
  });
  afterEach(async () => {
    await registry.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const aliases = async (model: string) =>
    (await registry.listVersions(model)).map((v) => `${v.version}:${v.aliases.join('+')}`);

  it('moves live and default onto the serving version, one version at a time, idempotently', async () => {
    const first = await registry.registerModel(request('a'));
    await registry.registerModel(request('b'));
    assert.deepEqual(await aliases(first.model), ['1:default', '2:']);
    await registry.markServing({ model: first.model, version: '2' });
    await registry.markServing({ model: first.model, version: '2' });
    assert.deepEqual(await aliases(first.model), ['1:', '2:default+live']);
    await registry.markServing({ model: first.model, version: '1' });
    assert.deepEqual(await aliases(first.model), ['1:default+live', '2:']);
    await assert.rejects(
      registry.markServing({ model: first.model, version: '9' }),
      (error: unknown) => error instanceof PermanentError && error.code === 'REGISTRY.REJECTED',
    );
  });

  it('gives the models of a schema-1 file default on their first version', async () => {
    const { model } = await registry.registerModel(request('a'));
    await registry.registerModel(request('b'));
    await registry.close();
    const db = new Database(file);
    db.exec('DROP TABLE registry_aliases');
    db.pragma('user_version = 1');
    db.close();
    registry = new LocalModelRegistry({ file, logger: new RecordingLogger() });
    assert.deepEqual(await aliases(model), ['1:default', '2:']);
  });
});
