import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PermanentError } from '@recdeploy/shared';
import {
  LoopExactSearcher,
  buildIndex,
  candidatesSha256,
  loadHnswSearcher,
  sampleQueryVectors,
  type BuildIndexOptions,
  type BuildPhase,
  type CandidateMatrix,
  type SearchHit,
  type Searcher,
} from '@recdeploy/shared/ann';
import { clusteredVectors } from '../support/ann-vectors.js';

const N = 6000;
const D = 32;
const K = 50;
const QUERIES = 200;

function catalogue(options: {
  normalise?: boolean;
  skewNorms?: number;
  seed?: number;
}): CandidateMatrix {
  return {
    vectors: clusteredVectors({ count: N, dim: D, clusters: 60, ...options }),
    count: N,
    dim: D,
  };
}

/** Mean recall@k of `searcher` against brute force (the float64 loop, independent of the build's TF.js). */
function recallVsExact(m: CandidateMatrix, searcher: Searcher, queries: Float32Array): number {
  const count = queries.length / D;
  const truth = new LoopExactSearcher(m).search(queries, count, K);
  const approx = searcher.search(queries, count, K);
  let sum = 0;
  approx.forEach((hit, q) => {
    const expected = new Set(truth[q]?.rows);
    sum += hit.rows.filter((row) => expected.has(row)).length / expected.size;
  });
  return sum / count;
}

function assertTrueScoresDescending(m: CandidateMatrix, hit: SearchHit, query: Float32Array): void {
  hit.rows.forEach((row, i) => {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += (m.vectors[row * D + d] as number) * (query[d] as number);
    assert.ok(
      Math.abs((hit.scores[i] as number) - dot) <= 1e-6 * Math.max(1, Math.abs(dot)),
      `row ${row} score`,
    );
    if (i > 0) assert.ok((hit.scores[i - 1] as number) >= (hit.scores[i] as number), 'descending');
  });
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PermanentError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('HNSW index build and load (hnswlib-node, worker threads)', function () {
  this.timeout(60_000);
  let root: string;
  let bundle: string;
  let outDir: string;
  const normalised = catalogue({ normalise: true, seed: 21 });
  const calibration = sampleQueryVectors(normalised, QUERIES, { seed: 22 });
  const heldOut = sampleQueryVectors(normalised, QUERIES, { seed: 23 });
  const options = (overrides: Partial<BuildIndexOptions> = {}): BuildIndexOptions => ({
    candidates: normalised,
    calibrationQueries: calibration,
    outDir,
    k: K,
    M: 16,
    efConstruction: 100,
    efCandidates: [50, 60, 80, 120, 200, 400],
    shards: 1,
    ...overrides,
  });

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hnsw-index-test-'));
    bundle = path.join(root, 'bundle');
    outDir = path.join(bundle, 'ann', 'index');
  });
  afterEach(async () => fs.rm(root, { recursive: true, force: true }));

  it('reaches the recall target against exact search, at the smallest ef that does in the stored sweep', async () => {
    const phases: BuildPhase[] = [];
    const manifest = await buildIndex(
      // A deliberately sparse graph (M = 8), so small ef values fall short first.
      options({
        M: 8,
        efConstruction: 40,
        onProgress: (p) => phases.at(-1) !== p.phase && phases.push(p.phase),
      }),
    );
    assert.equal(manifest.transform, 'normalize');
    assert.equal(manifest.space, 'ip');
    const { sweep, chosen, target } = manifest.recall;
    assert.ok(
      sweep.length >= 2,
      `the sweep should pass through a too-small ef: ${JSON.stringify(sweep)}`,
    );
    sweep.slice(0, -1).forEach((p) => assert.ok(p.recall < target, `ef ${p.ef} already met it`));
    assert.equal(chosen, sweep.at(-1)?.ef);
    assert.equal(manifest.ef, chosen);
    assert.ok(manifest.recall.recall >= target);
    assert.ok(sweep.every((p, i) => p.ef >= K && (i === 0 || p.ef > (sweep[i - 1]?.ef ?? 0))));
    assert.deepEqual(phases, ['build', 'load', 'ground-truth', 'calibrate', 'write']);

    const searcher = await loadHnswSearcher(bundle, normalised);
    assert.equal(searcher.ef, chosen);
    assert.equal(searcher.mode, 'ann');
    // Recomputed after a reload from disk against an independent brute force.
    const reloaded = recallVsExact(normalised, searcher, calibration);
    assert.ok(reloaded >= target, `calibration recall after reload ${reloaded}`);
    const held = recallVsExact(normalised, searcher, heldOut);
    assert.ok(held >= target - 0.02, `held-out recall ${held}`);
  });

  it('keeps recall on skewed norms through the MIPS→L2 transform and returns true dot products', async () => {
    const skewed = catalogue({ skewNorms: 0.5, seed: 31 });
    const queries = sampleQueryVectors(skewed, QUERIES, { seed: 32 });
    // Default shards: four norm ranges for mips-l2 (shard-plan.ts).
    const manifest = await buildIndex(
      options({ candidates: skewed, calibrationQueries: queries, shards: undefined }),
    );
    assert.equal(manifest.transform, 'mips-l2');
    assert.equal(manifest.space, 'l2');
    const maxes = manifest.shards.map((s) => s.max_norm_squared ?? NaN);
    assert.equal(maxes.length, 4);
    maxes.slice(1).forEach((max, i) => assert.ok(max > (maxes[i] as number), 'norm-ranged shards'));

    const searcher = await loadHnswSearcher(outDir, skewed);
    assert.ok(recallVsExact(skewed, searcher, queries) >= manifest.recall.target);
    const hits = searcher.search(queries, 20, K);
    hits.forEach((hit, q) => {
      assert.equal(hit.rows.length, K);
      assertTrueScoresDescending(skewed, hit, queries.subarray(q * D, (q + 1) * D));
    });
  });

  it('merges sharded graphs into one top-k that meets the target', async () => {
    const manifest = await buildIndex(options({ shards: 2 }));
    assert.deepEqual(
      manifest.shards.map((s) => [s.file, s.count]),
      [
        ['hnsw-0.bin', N / 2],
        ['hnsw-1.bin', N / 2],
      ],
    );
    const searcher = await loadHnswSearcher(bundle, normalised);
    assert.ok(recallVsExact(normalised, searcher, calibration) >= manifest.recall.target);
    const rows = searcher.search(heldOut, QUERIES, K).flatMap((hit) => [...hit.rows]);
    assert.ok(rows.some((r) => r < N / 2) && rows.some((r) => r >= N / 2), 'both shards answer');
  });

  it('fails below the recall floor with the best recall reached, and publishes nothing', async () => {
    await buildIndex(options());
    const before = await fs.readFile(path.join(outDir, 'index.json'), 'utf8');
    await rejects(
      buildIndex(
        options({ M: 2, efConstruction: 4, efCandidates: [K], recallTarget: 1, recallFloor: 1 }),
      ),
      'INDEX.RECALL_TOO_LOW',
      /recall@50 reached at most 0\.\d{4} \(ef=50\), below the floor 1/,
    );
    assert.equal(await fs.readFile(path.join(outDir, 'index.json'), 'utf8'), before);
    assert.deepEqual(await fs.readdir(path.dirname(outDir)), ['index'], 'no staging leftovers');
  });

  it('leaves no index directory at all when a first build fails', async () => {
    await assert.rejects(
      buildIndex(
        options({ recallTarget: 1, recallFloor: 1, M: 2, efConstruction: 4, efCandidates: [K] }),
      ),
    );
    assert.deepEqual(await fs.readdir(path.dirname(outDir)), []);
  });

  it('replaces an existing index in one step', async () => {
    const first = await buildIndex(options());
    const second = await buildIndex(options({ shards: 2 }));
    assert.notEqual(first.built_at, second.built_at);
    assert.deepEqual((await fs.readdir(outDir)).sort(), ['hnsw-0.bin', 'hnsw-1.bin', 'index.json']);
    assert.deepEqual(await fs.readdir(path.dirname(outDir)), ['index']);
  });

  it('refuses an index built for other embeddings, a missing one and a damaged one', async () => {
    await buildIndex({ ...options(), trainingRunId: 'run-a' });
    const changed = new Float32Array(normalised.vectors);
    changed[7] = (changed[7] as number) + 1e-3;
    const other = { ...normalised, vectors: changed };
    // Both sides named: the runs (index.json's training_run_id, the bundle's) and the sha256s.
    await rejects(
      loadHnswSearcher(bundle, other, { trainingRunId: 'run-b' }),
      'INDEX.MISMATCH',
      new RegExp(
        `^index in ${outDir} was built from the embeddings of training run run-a \\(candidates sha256 ${candidatesSha256(normalised)}\\), ` +
          `but this bundle's are training run run-b's \\(sha256 ${candidatesSha256(other)}\\); ` +
          `rebuild it: recdeploy build-index ${bundle}$`,
      ),
    );
    await rejects(
      loadHnswSearcher(bundle, other),
      'INDEX.MISMATCH',
      /but this bundle's are an unnamed training run's/,
    );
    await rejects(
      loadHnswSearcher(bundle, {
        vectors: normalised.vectors.subarray(0, 10 * D),
        count: 10,
        dim: D,
      }),
      'INDEX.MISMATCH',
      /count 6000 differs from the candidates' 10/,
    );
    await rejects(loadHnswSearcher(root, normalised), 'INDEX.NOT_FOUND', /no index\.json in/);

    await fs.rm(path.join(outDir, 'hnsw.bin'));
    await rejects(
      loadHnswSearcher(bundle, normalised),
      'INDEX.INVALID',
      /hnsw\.bin is missing or empty/,
    );
    const manifestFile = path.join(outDir, 'index.json');
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(manifestFile, JSON.stringify({ ...manifest, ef: 0 }));
    await rejects(
      loadHnswSearcher(bundle, normalised),
      'INDEX.INVALID',
      /ef must be a positive integer/,
    );
  });
});
