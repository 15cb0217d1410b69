import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  RecordingLogger,
  buildStoredIndex,
  bundleSize,
  createStoredIndexes,
  estimateIndexBuildSeconds,
  storedIndexStatus,
  type RecdeployError,
} from '@recdeploy/shared';
import { LocalArtifactStore } from '@recdeploy/shared/local';
import { writeTinyBundle } from '../support/ann/tiny-bundle.js';

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

describe('stored index (buildStoredIndex through the LocalArtifactStore)', function () {
  this.timeout(120_000);
  let root = '';
  let annDir = '';
  let artifactUri = '';
  let logger: RecordingLogger;
  let artifacts: LocalArtifactStore;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'recdeploy-stored-index-'));
    annDir = await writeTinyBundle(path.join(root, 'models', 'run-1'), { count: 40, dim: 8 });
    artifactUri = `${pathToFileURL(path.join(root, 'models', 'run-1')).href}/`;
  });
  beforeEach(() => {
    logger = new RecordingLogger();
    artifacts = new LocalArtifactStore({ roots: [root], logger });
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const indexFile = () => path.join(annDir, 'index', 'index.json');
  /** This module's log lines (the store logs its own). */
  const messages = () =>
    logger.lines.map((line) => line.message).filter((m) => m !== 'artifact directory written');

  it('reads the catalogue size from the manifest', async () => {
    assert.deepEqual(await bundleSize(artifacts, artifactUri), { count: 40, dim: 8 });
  });

  it('builds the index, stores it at ann/index/ and reports it present', async () => {
    assert.equal(await storedIndexStatus(artifacts, artifactUri), 'absent');
    const manifest = await buildStoredIndex({ artifacts, artifactUri, logger });

    const stored = JSON.parse(await fs.readFile(indexFile(), 'utf8')) as typeof manifest;
    assert.deepEqual(stored, manifest);
    assert.equal(manifest.count, 40);
    assert.equal(manifest.dim, 8);
    assert.equal(manifest.k, 40, 'k = min(100, N): the CLI defaults');
    assert.equal(manifest.m, 32);
    assert.equal(manifest.ef_construction, 200);
    assert.equal(manifest.recall.queries, 300);
    assert.equal(manifest.candidates_sha256, await sha256(path.join(annDir, 'candidates.f32')));
    for (const shard of manifest.shards) {
      assert.ok((await fs.stat(path.join(annDir, 'index', shard.file))).size > 0, shard.file);
    }
    assert.deepEqual(messages(), ['building index', 'index stored']);
    assert.equal(logger.lines[0]?.meta.reason, 'no index stored yet');
    assert.equal(await storedIndexStatus(artifacts, artifactUri), 'present');
  });

  it('reuses a stored index built from the same candidates', async () => {
    const before = await fs.readFile(indexFile(), 'utf8');
    const manifest = await buildStoredIndex({ artifacts, artifactUri, logger });
    assert.equal(JSON.stringify(manifest, null, 2) + '\n', before);
    assert.equal(await fs.readFile(indexFile(), 'utf8'), before);
    assert.deepEqual(messages(), ['stored index reused']);
  });

  it('is stale once the candidates change, and a build replaces it', async () => {
    const file = path.join(annDir, 'candidates.f32');
    const vectors = new Float32Array((await fs.readFile(file)).buffer.slice(0));
    vectors.reverse();
    await fs.writeFile(file, new Uint8Array(vectors.buffer));
    const changed = await sha256(file);

    // The status compares count and dim only, on file:// as on gs://, and they still match:
    // an index of other embeddings is the server's to refuse (INDEX.MISMATCH), not the
    // deploy step's to rebuild.
    assert.equal(await storedIndexStatus(artifacts, artifactUri), 'present');
    const deployStep = createStoredIndexes({ artifacts, logger });
    assert.equal(await deployStep.status(artifactUri), 'present');

    const rebuilt = await buildStoredIndex({ artifacts, artifactUri, logger });
    assert.equal(rebuilt.candidates_sha256, changed);
    assert.match(
      String(logger.lines[0]?.meta.reason),
      /^index was built from candidates with sha256 [0-9a-f]{64}, the bundle's is [0-9a-f]{64}$/,
    );
    assert.equal(await storedIndexStatus(artifacts, artifactUri), 'present');
  });

  it('is stale when index.json is not a valid index manifest, or is for another catalogue size', async () => {
    const valid = await fs.readFile(indexFile(), 'utf8');
    try {
      await fs.writeFile(indexFile(), JSON.stringify({ ...JSON.parse(valid), format_version: 9 }));
      assert.equal(await storedIndexStatus(artifacts, artifactUri), 'stale');
      // Valid, but for another catalogue size than the bundle's manifest says.
      const parsed = JSON.parse(valid) as { count: number };
      await fs.writeFile(indexFile(), JSON.stringify({ ...parsed, count: parsed.count + 1 }));
      assert.equal(await storedIndexStatus(artifacts, artifactUri), 'stale');
    } finally {
      await fs.writeFile(indexFile(), valid);
    }
  });

  it('fails with the store error for a missing bundle or a URI outside the roots', async () => {
    const missing = pathToFileURL(path.join(root, 'models', 'nope')).href;
    await assert.rejects(
      buildStoredIndex({ artifacts, artifactUri: missing, logger }),
      (error: RecdeployError) => error.code === 'ARTIFACT.NOT_FOUND' && error.retryable === false,
    );
    assert.equal(await storedIndexStatus(artifacts, missing), 'absent');
    await assert.rejects(
      buildStoredIndex({ artifacts, artifactUri: pathToFileURL(os.tmpdir()).href, logger }),
      (error: RecdeployError) => error.code === 'ARTIFACT.FORBIDDEN',
    );
  });
});

describe('estimateIndexBuildSeconds', () => {
  it('reproduces the measured builds (docs/performance.md) plus the start-up allowance', () => {
    assert.equal(estimateIndexBuildSeconds(100_000, 64, 2), Math.ceil(3 + 7.2));
    assert.equal(estimateIndexBuildSeconds(1_000_000, 64, 2), Math.ceil(3 + 180.4));
    assert.equal(estimateIndexBuildSeconds(1_000_000, 64, 1), 603, 'one core: 10 minutes');
  });

  it('scales linearly with dim, and with cores up to the four build threads', () => {
    assert.equal(estimateIndexBuildSeconds(1_000_000, 128, 2), Math.ceil(3 + 360.8));
    assert.equal(estimateIndexBuildSeconds(1_000_000, 64, 4), Math.ceil(3 + 90.2));
    assert.equal(estimateIndexBuildSeconds(1_000_000, 64, 16), Math.ceil(3 + 90.2));
    assert.equal(estimateIndexBuildSeconds(20, 8, 2), 3, 'start-up only');
  });

  it('refuses sizes that are not positive integers', () => {
    assert.throws(
      () => estimateIndexBuildSeconds(0, 64, 2),
      /^RangeError: estimateIndexBuildSeconds: count must be a positive integer, got 0$/,
    );
    assert.throws(() => estimateIndexBuildSeconds(10, 64, 1.5), /cores must be a positive integer/);
  });
});
