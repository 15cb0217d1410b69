/**
 * The `replay` check against two TF Serving REST fakes on loopback (the
 * candidate and the live revision) and a tiny real bundle (its exact search
 * is the truth recall is measured against): skipped without a sample, recall
 * gated at minRecall, overlap reported or gated by policy, degenerate
 * answers counted, a live revision that does not answer costs only its side,
 * and no detail ever quotes an instance.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readBundle, type ModelBundle } from '@recdeploy/shared/ann';
import { RecordingLogger } from '../../shared/logging/recording-logger.js';
import { expectedK, type CheckContext } from '../../shared/verification/check-context.js';
import { checkReplay } from '../../shared/verification/checks/replay.js';
import { exactTopK } from '../../shared/verification/exact-top-k.js';
import { productIdCatalogue } from '../../shared/verification/product-id-check.js';
import type { ReplaySampleToReplay } from '../../shared/verification/replay-input.js';
import { RevisionClient } from '../../shared/verification/revision-client.js';
import { DEFAULT_VERIFICATION_THRESHOLDS } from '../../shared/verification/thresholds.js';
import { writeTinyBundle } from '../support/ann/tiny-bundle.js';
import {
  startFakeTfServing,
  type FakeTfServing,
  type RankedAnswer,
} from '../support/verification/fake-tf-serving.js';

/** Live-looking instances: the tiny bundle's inputs, values it has and has not seen. */
const INSTANCES = Array.from({ length: 40 }, (_, i) => ({
  customer_id: i % 3 === 0 ? `C${i}` : 'C1',
  city: ['Warsaw', 'Gdansk', 'Krakow'][i % 3]!,
  revenue: 100 + 37 * i,
}));

describe('the replay check', function () {
  this.timeout(60_000);
  let dir: string;
  let bundle: ModelBundle;
  let exact: Map<string, readonly (string | number)[]>;
  const fakes: FakeTfServing[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'replay-check-'));
    bundle = await readBundle(await writeTinyBundle(dir));
    const truth = await exactTopK(bundle, INSTANCES, expectedK(bundle));
    exact = new Map(INSTANCES.map((instance, i) => [JSON.stringify(instance), truth[i]!]));
  });

  after(async () => {
    await Promise.all(fakes.map((fake) => fake.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const k = () => expectedK(bundle);
  /** The exact answer, or one transformed (scores descending, so only the ids matter). */
  const answering =
    (ids: (exactIds: readonly (string | number)[]) => readonly unknown[]) =>
    (instance: unknown): RankedAnswer => {
      const found = ids(exact.get(JSON.stringify(instance)) ?? []);
      return { product_ids: found, scores: found.map((_, i) => 1 - i / 100) };
    };
  const serve = async (rank: (instance: unknown) => RankedAnswer): Promise<string> => {
    const fake = await startFakeTfServing({ manifest: bundle.manifest, rank });
    fakes.push(fake);
    return fake.baseUrl;
  };
  const client = (baseUrl: string) =>
    new RevisionClient({ baseUrl, modelName: 'recommender', requestTimeoutMs: 5000 });
  const context = (candidateUrl: string): CheckContext => ({
    client: client(candidateUrl),
    bundle,
    thresholds: { ...DEFAULT_VERIFICATION_THRESHOLDS, latencySamples: 10 },
    logger: new RecordingLogger(),
    k: k(),
    catalogue: productIdCatalogue(bundle.productIds, bundle.manifest.product_id_dtype),
  });
  const sample = (liveUrl: string, extra: Partial<ReplaySampleToReplay> = {}) => ({
    sampleUri: 'file:///data/replay/home/rec-home-00001.json',
    sampledAt: '2026-12-06T22:00:00.000Z',
    liveRevision: 'rec-home-00001',
    liveUrl,
    instances: INSTANCES,
    ...extra,
  });
  const replay = (candidateUrl: string, input: Parameters<typeof checkReplay>[1]) =>
    checkReplay(context(candidateUrl), input, { approximate: true, liveClient: client });

  it('is skipped, not passed, with the reason when there is nothing to replay', async () => {
    const result = await replay('http://127.0.0.1:1', { notRun: 'not run: no sample yet' });
    assert.deepEqual(result.check, {
      name: 'replay',
      passed: false,
      skipped: true,
      detail: 'not run: no sample yet',
    });
    assert.equal(result.report, undefined);
  });

  it('passes a candidate that answers like exact search, with overlap, degenerate share and latency reported', async () => {
    const exactUrl = await serve(answering((ids) => ids));
    // The live model agrees on the first half of each list only.
    const half = Math.floor(k() / 2);
    const liveUrl = await serve(
      answering((ids) => [...ids.slice(0, half), ...Array.from({ length: k() - half }, () => -1)]),
    );
    const { check, report } = await replay(exactUrl, sample(liveUrl));
    assert.equal(check.passed, true, check.detail);
    assert.equal(report?.queries, INSTANCES.length);
    assert.equal(report?.recallAtK, 1);
    assert.equal(report?.overlapAtK, Math.round((half / k()) * 1000) / 1000);
    assert.equal(report?.degenerateShare, 0);
    assert.equal(report?.liveRevision, 'rec-home-00001');
    assert.ok((report?.candidateLatencyP50Ms ?? -1) >= 0 && report?.liveLatencyP99Ms !== undefined);
    assert.match(check.detail ?? '', /40 live queries of revision rec-home-00001/);
    assert.match(check.detail ?? '', /overlap@\d+ with live [\d.]+ \(reported only\)/);
    assert.doesNotMatch(check.detail ?? '', /Warsaw|Gdansk|C1/, 'no instance value in the detail');
  });

  it('fails on recall when the candidate answers other products than its own exact search', async () => {
    const others = (ids: readonly (string | number)[]) =>
      bundle.productIds.filter((id) => !ids.includes(id)).slice(0, k());
    const broken = await serve(answering(others));
    const liveUrl = await serve(answering((ids) => ids));
    const { check, report } = await replay(broken, sample(liveUrl));
    assert.equal(check.passed, false);
    assert.ok((report?.recallAtK ?? 1) < 0.9, `recall ${report?.recallAtK}`);
    assert.match(check.detail ?? '', /^recall too low: /);
  });

  it('gates on overlap when the policy sets min_overlap, and counts degenerate answers', async () => {
    // Exact ids, but every third answer short a product (fewer than k: degenerate).
    let call = 0;
    const candidate = await serve((instance) => {
      call += 1;
      return answering((ids) => (call % 3 === 0 ? ids.slice(0, -1) : ids))(instance);
    });
    const liveUrl = await serve(answering((ids) => [...ids].reverse().map((id) => `x${id}`)));
    const { check, report } = await replay(candidate, sample(liveUrl, { minOverlap: 0.5 }));
    assert.equal(check.passed, false);
    assert.equal(report?.overlapAtK, 0);
    assert.ok((report?.degenerateShare ?? 0) > 0.2, `degenerate ${report?.degenerateShare}`);
    assert.match(check.detail ?? '', /^overlap with live too low: .*\(min 0\.5\)/);
  });

  it('reports no overlap and still judges the candidate when the live revision does not answer', async () => {
    const exactUrl = await serve(answering((ids) => ids));
    const { check, report } = await replay(
      exactUrl,
      sample('http://127.0.0.1:9', { minOverlap: 0.9 }),
    );
    assert.equal(check.passed, true, check.detail);
    assert.equal(report?.overlapAtK, undefined);
    assert.equal(report?.liveLatencyP50Ms, undefined);
    assert.match(check.detail ?? '', /not measured: the live revision did not answer/);
  });
});
