/**
 * createRevisionVerifier, the verify step's RevisionVerifier: reads the
 * bundle directory, applies the settings, binds headers to the tag URL, and
 * refuses invalid settings when it is created.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readBundle } from '@recdeploy/shared/ann';
import { RecordingLogger } from '../../shared/logging/recording-logger.js';
import { createRevisionVerifier } from '../../shared/verification/revision-verifier.js';
import { writeTinyBundle } from '../support/ann/tiny-bundle.js';
import { startFakeTfServing, type FakeTfServing } from '../support/verification/fake-tf-serving.js';
import {
  ALL_CHECKS,
  ANN_SERVING_CHECKS,
  check,
  failedNames,
  names,
} from '../support/verification/outcome-checks.js';

describe('createRevisionVerifier (the verify step’s RevisionVerifier)', function () {
  this.timeout(60_000);
  let dir: string;
  let bundleDir: string;
  let fake: FakeTfServing;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'revision-verifier-'));
    bundleDir = await writeTinyBundle(dir);
    const bundle = await readBundle(bundleDir);
    fake = await startFakeTfServing({
      manifest: bundle.manifest,
      rank: () => ({ product_ids: bundle.productIds.slice(0, 5), scores: [5, 4, 3, 2, 1] }),
    });
  });

  after(async () => {
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the bundle directory, applies the settings and binds headers to the tag URL', async () => {
    const urls: string[] = [];
    const verifier = createRevisionVerifier({
      settings: { latencySamples: 4, readyTimeoutMs: 1000 },
      logger: new RecordingLogger(),
      headers: (url) => {
        urls.push(url);
        return Promise.resolve({ authorization: 'Bearer t' });
      },
    });
    const before = fake.requests.length;
    const outcome = await verifier.verify({
      tagUrl: fake.baseUrl,
      modelName: 'recommender',
      bundleDir,
      runtime: 'tf-serving',
      retrievalAlgorithm: 'brute_force',
    });
    assert.deepEqual(names(outcome), ALL_CHECKS);
    assert.equal(outcome.passed, true, JSON.stringify(outcome.verification.checks));
    assert.match(check(outcome, 'latency').detail, / over 4 sequential /);
    assert.equal(fake.requests.length - before, 2 + 1 + 3 + 4);
    assert.deepEqual(new Set(urls), new Set([fake.baseUrl]));
  });

  it('fails every check, and says how to add examples, when examples.json is missing', async () => {
    const copy = path.join(dir, 'no-examples');
    await cp(bundleDir, copy, { recursive: true });
    await rm(path.join(copy, 'examples.json'));
    const verifier = createRevisionVerifier({ settings: {}, logger: new RecordingLogger() });
    const outcome = await verifier.verify({
      tagUrl: fake.baseUrl,
      modelName: 'recommender',
      bundleDir: copy,
      runtime: 'ann-serving',
      retrievalAlgorithm: 'hnsw',
    });
    assert.deepEqual(names(outcome), [...ANN_SERVING_CHECKS, 'ann_recall']);
    assert.deepEqual(failedNames(outcome), [...ANN_SERVING_CHECKS, 'ann_recall']);
    const examplesFile = path.join(copy, 'examples.json');
    assert.equal(
      check(outcome, 'smoke_predictions').detail,
      `${examplesFile}: cannot be read (missing?): add ann/examples.json next to manifest.json, ` +
        "a JSON array of a few instances exactly as a client sends them, each an object with the manifest's inputs",
    );
    assert.equal(
      check(outcome, 'model_available').detail,
      `not run: the bundle cannot be read: ${examplesFile}: cannot be read (missing?)`,
    );
  });

  it('refuses invalid settings when it is created (cold start), listing them', () => {
    assert.throws(
      () =>
        createRevisionVerifier({
          settings: { minRecall: 2, latencySamples: 0 },
          logger: new RecordingLogger(),
        }),
      (error: Error & { code?: string; problems?: string[] }) => {
        assert.equal(error.code, 'CONFIG.INVALID');
        assert.deepEqual(error.problems, [
          'verification threshold latencySamples must be a positive integer, got 0',
          'verification threshold minRecall must be in [0, 1], got 2',
        ]);
        return true;
      },
    );
  });
});
