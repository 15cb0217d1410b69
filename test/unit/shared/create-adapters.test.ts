import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRuntimeConfig, RecordingLogger, topicNames } from '@recdeploy/shared';
import { FirestoreRunStore, PubSubEventBus } from '@recdeploy/shared/gcp';
import { LocalEventBus, SqliteRunStore } from '@recdeploy/shared/local';
import { createAdapters, localDataFiles } from '@recdeploy/shared/wiring';
import { sampleIdentity } from '../../fixtures/runs.js';

describe('createAdapters', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-wiring-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('runs the local backend on SQLite files in the data dir, with every topic created', async () => {
    const config = loadRuntimeConfig({ RECDEPLOY_DATA_DIR: dataDir });
    const adapters = await createAdapters(config, new RecordingLogger());
    try {
      assert.ok(adapters.runStore instanceof SqliteRunStore);
      assert.ok(adapters.eventBus instanceof LocalEventBus);
      const created = await adapters.runStore.createRun(sampleIdentity());
      assert.equal((await adapters.runStore.getRun(created.run.runId))?.status, 'received');
      for (const topic of topicNames(config.topics)) {
        assert.match(await adapters.eventBus.publish(topic, { data: { ok: true } }), /^\d+$/);
      }
      await assert.rejects(adapters.eventBus.publish('no-such-topic', { data: {} }), {
        code: 'BUS.UNKNOWN_TOPIC',
      });
    } finally {
      await adapters.close();
    }
    const files = localDataFiles(dataDir);
    assert.ok(fs.statSync(files.runStore).size > 0);
    assert.ok(fs.statSync(files.eventBus).size > 0);
  });

  it('picks Firestore and Pub/Sub for the gcp backend without connecting anywhere', async () => {
    const config = loadRuntimeConfig({
      RECDEPLOY_BACKEND: 'gcp',
      GOOGLE_CLOUD_PROJECT: 'my-project',
    });
    const adapters = await createAdapters(config, new RecordingLogger());
    assert.ok(adapters.runStore instanceof FirestoreRunStore);
    assert.ok(adapters.eventBus instanceof PubSubEventBus);
    await adapters.close();
    assert.deepEqual(fs.readdirSync(dataDir), [], 'the gcp backend writes no local files');
  });
});
