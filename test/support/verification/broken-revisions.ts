/**
 * The setup of "verifyRevision against broken revisions (node:http fakes)":
 * a tiny bundle (default_k 5, 20 products) in a temporary directory, and
 * verifyAgainst, which starts a fake TF Serving that misbehaves as told and
 * verifies it. Call brokenRevisions() inside a describe: it registers the
 * hooks (the fake of each test is closed after it).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readBundle, type ModelBundle } from '@recdeploy/shared/ann';
import { RecordingLogger } from '../../../shared/logging/recording-logger.js';
import {
  DEFAULT_VERIFICATION_THRESHOLDS,
  verifyRevision,
  type VerificationOutcome,
  type VerificationRequest,
  type VerificationThresholds,
} from '../../../shared/verification/index.js';
import { writeTinyBundle } from '../ann/tiny-bundle.js';
import {
  startFakeTfServing,
  type FakeTfServing,
  type FakeTfServingOptions,
  type RankedAnswer,
} from './fake-tf-serving.js';

export interface BrokenRevisions {
  /** The tiny bundle (read in `before`). */
  readonly bundle: ModelBundle;
  /** The fake of the current test; closed and cleared after each test. */
  fake: FakeTfServing | undefined;
  readonly thresholds: VerificationThresholds;
  /** The first five ids, best first: a well-formed answer (tiny bundle: default_k 5, N 20). */
  readonly good: () => RankedAnswer;
  /** Starts a fake with `options` (answering good() unless told otherwise) and verifies it. */
  readonly verifyAgainst: (
    options: Omit<FakeTfServingOptions, 'manifest'>,
    extra?: Partial<VerificationRequest>,
  ) => Promise<VerificationOutcome>;
}

export function brokenRevisions(): BrokenRevisions {
  let dir: string;
  let bundle: ModelBundle;
  const thresholds: VerificationThresholds = {
    ...DEFAULT_VERIFICATION_THRESHOLDS,
    readyTimeoutMs: 2000,
    requestTimeoutMs: 2000,
    latencySamples: 10,
    recallQueries: 40,
  };
  const good = (): RankedAnswer => ({
    product_ids: bundle.productIds.slice(0, 5),
    scores: [0.9, 0.8, 0.7, 0.7, -0.2],
  });

  const revisions: BrokenRevisions = {
    get bundle() {
      return bundle;
    },
    fake: undefined,
    thresholds,
    good,
    verifyAgainst: async (options, extra = {}) => {
      revisions.fake = await startFakeTfServing({
        manifest: bundle.manifest,
        rank: good,
        ...options,
      });
      return verifyRevision({
        baseUrl: revisions.fake.baseUrl,
        modelName: 'recommender',
        bundle,
        runtime: 'tf-serving',
        thresholds,
        logger: new RecordingLogger(),
        ...extra,
      });
    },
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'verification-'));
    await writeTinyBundle(dir);
    bundle = await readBundle(dir);
    assert.equal(bundle.manifest.default_k, 5);
    assert.deepEqual(bundle.productIds.slice(0, 2), [1001, 1002]);
  });

  afterEach(async () => {
    await revisions.fake?.close();
    revisions.fake = undefined;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  return revisions;
}
