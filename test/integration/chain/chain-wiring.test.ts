import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger } from '@recdeploy/shared';
import { loadChainConfig } from '@recdeploy/shared/chain';
import { createChainDeps } from '@recdeploy/shared/chain-wiring';
import * as gcp from '@recdeploy/shared/gcp';
import * as local from '@recdeploy/shared/local';

describe('chain wiring (the composition root picks each port by backend)', () => {
  it('gcp: Vertex, Cloud Run, Cloud Storage and the index-build job, created without calling anything', async () => {
    const deps = await createChainDeps(
      loadChainConfig({
        RECDEPLOY_BACKEND: 'gcp',
        GOOGLE_CLOUD_PROJECT: 'recs-prod',
        REGION: 'europe-west1',
      }),
      new RecordingLogger(),
    );
    try {
      assert.ok(deps.registry instanceof gcp.VertexModelRegistry);
      assert.ok(deps.platform instanceof gcp.CloudRunPlatform);
      assert.ok(deps.artifacts instanceof gcp.GcsArtifactStore);
      assert.ok(deps.indexBuilds instanceof gcp.CloudRunIndexBuilds);
      assert.ok(deps.pipelineJobs instanceof gcp.VertexPipelineJobs);
      assert.ok(deps.runStore instanceof gcp.FirestoreRunStore);
    } finally {
      await Promise.allSettled([
        deps.runStore.close(),
        deps.eventBus.close(),
        deps.platform.close(),
      ]);
    }
  });

  it('local: SQLite registry, local processes, confined files, child-process builds; no Vertex', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'chain-wiring-'));
    const deps = await createChainDeps(
      loadChainConfig({ RECDEPLOY_DATA_DIR: dataDir }),
      new RecordingLogger(),
    );
    try {
      assert.ok(deps.registry instanceof local.LocalModelRegistry);
      assert.ok(deps.platform instanceof local.LocalProcessPlatform);
      assert.ok(deps.artifacts instanceof local.LocalArtifactStore);
      assert.ok(deps.indexBuilds instanceof local.LocalIndexBuilds);
      assert.equal(deps.pipelineJobs, undefined);
      assert.deepEqual(deps.artifacts.roots, [dataDir]);
    } finally {
      await Promise.allSettled([
        deps.platform.close(),
        deps.registry.close(),
        deps.runStore.close(),
        deps.eventBus.close(),
      ]);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
