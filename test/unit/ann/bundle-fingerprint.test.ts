/**
 * The bundle fingerprint (issue 16): hashes of the query model's weight files
 * and of the candidates, the id made of both, the declared training run, and
 * the refusal of a bundle whose files do not match the hashes it declares.
 * No TF.js: the bundles are written with a stand-in for a TF.js model's save().
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs';
import {
  bundleFingerprint,
  bundleManifestProblem,
  fingerprintId,
  readBundle,
  writeBundle,
  type Manifest,
  type ModelBundle,
  type SavableModel,
} from '@recdeploy/shared/ann';
import type { RecdeployError } from '@recdeploy/shared';
import { validManifest, validVocabularies } from '../../support/ann/manifest-fixture.js';

const DIM = 8;
const COUNT = 20;

/**
 * Stands in for a TF.js LayersModel: its save(handler) builds the model
 * artifacts (topology, weight specs, one weight buffer) and hands them to
 * handler.save (tfjs-layers `LayersModel.save`), which writes the files.
 */
function fakeModel(weights: Float32Array): SavableModel {
  return {
    save: async (handler: io.IOHandler) =>
      handler.save!({
        modelTopology: { class_name: 'Functional', config: {} },
        format: 'layers-model',
        weightSpecs: [{ name: 'dense/kernel', shape: [weights.length], dtype: 'float32' }],
        weightData: weights.buffer.slice(0) as ArrayBuffer,
      }),
  };
}

function candidates(seed: number): Float32Array {
  return Float32Array.from({ length: COUNT * DIM }, (_, i) => Math.sin(seed + i));
}

async function writeSample(
  dir: string,
  options: { trainingRunId?: string; vectors?: Float32Array; manifest?: Partial<Manifest> } = {},
): Promise<ModelBundle> {
  await writeBundle(dir, {
    manifest: validManifest(options.manifest),
    candidates: { vectors: options.vectors ?? candidates(1), count: COUNT, dim: DIM },
    productIds: Array.from({ length: COUNT }, (_, i) => 1001 + i),
    vocabularies: validVocabularies(),
    examples: [{ customer_id: 'C1', city: 'Warsaw', revenue: 1200 }],
    queryModel: fakeModel(Float32Array.from({ length: 64 }, (_, i) => i / 64)),
    ...(options.trainingRunId === undefined ? {} : { trainingRunId: options.trainingRunId }),
  });
  return readBundle(dir);
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

describe('bundle fingerprint', () => {
  let root: string;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'bundle-fingerprint-'));
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('hashes the weight files and candidates.f32, and names the declared training run', async () => {
    const bundle = await writeSample(path.join(root, 'a'), { trainingRunId: 'run-a' });
    const fingerprint = await bundleFingerprint(bundle);
    const weightFile = path.join(bundle.dir, 'query_model', 'group1-shard1of1.bin');
    assert.equal(fingerprint.queryModelSha256, await sha256(weightFile));
    assert.equal(
      fingerprint.candidatesSha256,
      await sha256(path.join(bundle.dir, 'candidates.f32')),
    );
    assert.equal(
      fingerprint.id,
      createHash('sha256')
        .update(`${fingerprint.queryModelSha256}:${fingerprint.candidatesSha256}`)
        .digest('hex')
        .slice(0, 16),
    );
    assert.equal(
      fingerprintId(fingerprint.queryModelSha256, fingerprint.candidatesSha256),
      fingerprint.id,
    );
    assert.equal(fingerprint.trainingRunId, 'run-a');
    // writeBundle declared what it wrote.
    assert.deepEqual(bundle.manifest.fingerprint, {
      training_run_id: 'run-a',
      query_model_sha256: fingerprint.queryModelSha256,
      candidates_sha256: fingerprint.candidatesSha256,
    });
  });

  it('changes with one weight byte (query model hash and id) and with one candidate', async () => {
    const bundle = await writeSample(path.join(root, 'b'));
    const before = await bundleFingerprint(bundle);
    assert.equal(before.trainingRunId, undefined, 'no fingerprint declared');

    const weightFile = path.join(bundle.dir, 'query_model', 'group1-shard1of1.bin');
    const bytes = await fs.readFile(weightFile);
    bytes[5] = bytes[5]! ^ 0x01;
    await fs.writeFile(weightFile, bytes);
    const weightChanged = await bundleFingerprint(bundle);
    assert.notEqual(weightChanged.queryModelSha256, before.queryModelSha256);
    assert.notEqual(weightChanged.id, before.id);
    assert.equal(weightChanged.candidatesSha256, before.candidatesSha256);

    const vectors = bundle.candidates.vectors.slice();
    vectors[3] = vectors[3]! + 0.5;
    const candidateChanged = await bundleFingerprint({
      ...bundle,
      candidates: { ...bundle.candidates, vectors },
    });
    assert.notEqual(candidateChanged.candidatesSha256, weightChanged.candidatesSha256);
    assert.notEqual(candidateChanged.id, weightChanged.id);
    assert.equal(candidateChanged.queryModelSha256, weightChanged.queryModelSha256);
  });

  it('uses the candidates sha256 it is given instead of hashing again', async () => {
    const bundle = await writeSample(path.join(root, 'c'));
    const given = 'f'.repeat(64);
    const fingerprint = await bundleFingerprint(bundle, { candidatesSha256: given });
    assert.equal(fingerprint.candidatesSha256, given);
  });

  it('refuses a bundle whose files do not match the hashes it declares, naming both', async () => {
    const declared = await writeSample(path.join(root, 'd'), { trainingRunId: 'run-d' });
    const other = candidates(2);
    // Another run's embeddings under this manifest.
    await fs.writeFile(path.join(declared.dir, 'candidates.f32'), new Uint8Array(other.buffer));
    const bundle = await readBundle(path.join(root, 'd'));
    const actual = createHash('sha256').update(new Uint8Array(other.buffer)).digest('hex');
    await assert.rejects(bundleFingerprint(bundle), (error: RecdeployError) => {
      assert.equal(error.code, 'BUNDLE.INVALID');
      assert.match(error.message, /manifest\.json: fingerprint does not match/);
      assert.ok(
        error.message.includes(
          `candidates_sha256 declared ${declared.manifest.fingerprint!.candidates_sha256}, the files hash to ${actual}`,
        ),
        error.message,
      );
      assert.doesNotMatch(error.message, /query_model_sha256/, 'the weights still match');
      return true;
    });
  });

  it('validates the manifest field: an id-like training run, sha256 hex hashes', () => {
    const problem = (fingerprint: unknown) =>
      bundleManifestProblem({ ...validManifest(), fingerprint });
    assert.equal(problem({ training_run_id: 'train-001:a.b_c' }), undefined);
    assert.match(problem({ training_run_id: 'a/b' }) ?? '', /training_run_id/);
    assert.match(problem({}) ?? '', /training_run_id/);
    assert.match(
      problem({ training_run_id: 'r', candidates_sha256: 'ABC' }) ?? '',
      /candidates_sha256/,
    );
  });

  it('writeBundle refuses an invalid training run id before writing anything', async () => {
    const dir = path.join(root, 'e');
    await assert.rejects(writeSample(dir, { trainingRunId: 'no spaces' }), /training_run_id/);
    await assert.rejects(fs.stat(path.join(dir, 'ann')), { code: 'ENOENT' });
  });
});
