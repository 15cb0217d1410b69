/**
 * The ID-token audience on its way from the platform to the header source:
 * verify's checks ask the verifier with the audience the platform reports
 * for the service (its custom audience, else its URL), and the verifier asks
 * the header source for that audience for the tag URL and for the live
 * revision's URL during replay. Cloud Run refuses a token minted for a tag
 * URL (https://cloud.google.com/run/docs/configuring/custom-audiences).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readBundle } from '@recdeploy/shared/ann';
import { RecordingLogger, type RunDocument } from '@recdeploy/shared';
import { loadChainConfig, type RevisionVerifier } from '@recdeploy/shared/chain';
import { LocalArtifactStore, SqliteRunStore } from '@recdeploy/shared/local';
import { checkRevision } from '../../../shared/usecases/verify-checks.js';
import { createRevisionVerifier } from '../../../shared/verification/revision-verifier.js';
import { walkRun } from '../../fixtures/canary-runs.js';
import { writeTinyBundle } from '../../support/ann/tiny-bundle.js';
import { MemoryPlatform } from '../../support/chain/memory-platform.js';
import {
  startFakeTfServing,
  type FakeTfServing,
} from '../../support/verification/fake-tf-serving.js';

const SERVICE = 'recs-home';
const CANDIDATE = 'recs-home-train-b';

type VerifyRequest = Parameters<RevisionVerifier['verify']>[0];

describe('the ID-token audience from the platform to the header source', function () {
  this.timeout(60_000);
  let dir: string;
  let store: SqliteRunStore;
  let platform: MemoryPlatform;
  let run: RunDocument;
  const asked: VerifyRequest[] = [];
  const recordingVerifier: RevisionVerifier = {
    verify(request) {
      asked.push(request);
      return Promise.resolve({ passed: true, verification: { checks: [] } });
    },
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'verify-audience-'));
    store = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
    await mkdir(path.join(dir, 'model', 'ann'), { recursive: true });
    await writeFile(path.join(dir, 'model', 'ann', 'manifest.json'), '{}');
    const walked = await walkRun(store, {
      trainingRunId: 'train-b',
      runNumber: 2,
      service: SERVICE,
      revision: CANDIDATE,
      verified: false,
      startMs: 0,
    });
    run = { ...walked, artifactUri: pathToFileURL(path.join(dir, 'model')).href };
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    asked.length = 0;
    platform = new MemoryPlatform();
    platform.addService(SERVICE, 'recs-home-train-a', [CANDIDATE]);
  });

  const check = async () => {
    const deps = {
      config: loadChainConfig({ RECDEPLOY_DATA_DIR: dir }),
      runStore: store,
      artifacts: new LocalArtifactStore({ roots: [dir], logger: new RecordingLogger() }),
      verifier: recordingVerifier,
    };
    const serving = run.serving;
    assert.ok(serving?.revision !== undefined && serving.tagUrl !== undefined);
    await checkRevision(
      deps,
      run,
      { ...serving, revision: serving.revision, tagUrl: serving.tagUrl },
      await platform.describe(SERVICE),
    );
    assert.equal(asked.length, 1);
    return asked[0]!;
  };

  it("asks the verifier with the service's URL as the audience, not the tag URL", async () => {
    const request = await check();
    assert.equal(request.audience, `http://${SERVICE}.test`);
    assert.notEqual(request.audience, new URL(request.tagUrl).origin);
  });

  it("asks it with the service's custom audience when it has one", async () => {
    platform.setIdTokenAudience(SERVICE, 'https://recs.example.com');
    assert.equal((await check()).audience, 'https://recs.example.com');
  });

  describe('the verifier', () => {
    const fakes: FakeTfServing[] = [];
    let bundleDir: string;

    before(async () => {
      bundleDir = await writeTinyBundle(dir);
      const bundle = await readBundle(bundleDir);
      for (let i = 0; i < 2; i++) {
        fakes.push(
          await startFakeTfServing({
            manifest: bundle.manifest,
            rank: () => ({ product_ids: bundle.productIds.slice(0, 5), scores: [5, 4, 3, 2, 1] }),
          }),
        );
      }
    });

    after(async () => {
      await Promise.all(fakes.map((fake) => fake.close()));
    });

    it('asks the header source for that audience for the tag URL and the live revision alike', async () => {
      const [candidate, live] = fakes;
      assert.ok(candidate && live);
      const calls: { url: string; audience: string }[] = [];
      const verifier = createRevisionVerifier({
        settings: { latencySamples: 2, readyTimeoutMs: 1000 },
        logger: new RecordingLogger(),
        headers: (url, audience) => {
          calls.push({ url, audience });
          return Promise.resolve({ authorization: `Bearer for ${audience}` });
        },
      });
      await verifier.verify({
        tagUrl: candidate.baseUrl,
        audience: 'https://recs-home-abc-uc.a.run.app',
        modelName: 'recommender',
        bundleDir,
        runtime: 'tf-serving',
        retrievalAlgorithm: 'brute_force',
        replay: {
          sampleUri: 'file:///data/replay/recs-home/recs-home-train-a.json',
          sampledAt: '2026-12-06T22:00:00.000Z',
          liveRevision: 'recs-home-train-a',
          liveUrl: live.baseUrl,
          instances: [{ customer_id: 'C1', city: 'Warsaw', revenue: 120 }],
        },
      });
      assert.deepEqual(
        new Set(calls.map((call) => call.audience)),
        new Set(['https://recs-home-abc-uc.a.run.app']),
      );
      assert.deepEqual(
        new Set(calls.map((call) => call.url)),
        new Set([candidate.baseUrl, live.baseUrl]),
      );
      const authorization = [...candidate.requests, ...live.requests].map(
        (request) => request.headers.authorization,
      );
      assert.ok(authorization.length > 0);
      assert.ok(
        authorization.every((value) => value === 'Bearer for https://recs-home-abc-uc.a.run.app'),
      );
    });
  });
});
