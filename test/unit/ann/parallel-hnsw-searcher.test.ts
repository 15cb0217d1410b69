/**
 * ParallelHnswSearcher against HnswSearcher on the same small real indexes
 * (hnswlib-node, real worker threads): identical answers, and the lifecycle
 * (dispose, a dying worker, a bad graph file).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { PermanentError } from '@recdeploy/shared';
import {
  LoopExactSearcher,
  buildIndex,
  loadHnswSearcher,
  loadParallelHnswSearcher,
  sampleQueryVectors,
  type CandidateMatrix,
  type LoadParallelHnswOptions,
  type LoadedParallelHnswSearcher,
} from '@recdeploy/shared/ann';
import { clusteredVectors } from '../../support/ann-vectors.js';

const D = 16;

function catalogue(count: number, options: { normalise?: boolean; skewNorms?: number }) {
  const vectors = clusteredVectors({ count, dim: D, clusters: 30, seed: count, ...options });
  return { vectors, count, dim: D } satisfies CandidateMatrix;
}

/** A small index of `shards` graphs; low recall targets keep the build quick (only equality matters). */
async function build(dir: string, candidates: CandidateMatrix, shards: number): Promise<void> {
  await buildIndex({
    candidates,
    calibrationQueries: sampleQueryVectors(candidates, 40, { seed: 2 }),
    outDir: dir,
    k: Math.min(10, candidates.count),
    M: 8,
    efConstruction: 40,
    efCandidates: [10, 20, 40],
    recallTarget: 0.5,
    recallFloor: 0.05,
    shards,
    exactSearcher: new LoopExactSearcher(candidates),
  });
}

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PermanentError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('ParallelHnswSearcher (worker threads, real hnswlib)', function () {
  this.timeout(60_000);
  let root: string;
  const normalised = catalogue(3000, { normalise: true });
  const skewed = catalogue(3000, { skewNorms: 0.5 });
  const tiny = catalogue(60, { skewNorms: 0.3 });
  const dirs = { normalised: '', skewed: '', tiny: '' };
  const open: LoadedParallelHnswSearcher[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  const load = async (
    dir: string,
    m: CandidateMatrix,
    options: LoadParallelHnswOptions = {},
  ): Promise<LoadedParallelHnswSearcher> => {
    const searcher = await loadParallelHnswSearcher(dir, m, options);
    open.push(searcher);
    return searcher;
  };

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'parallel-hnsw-test-'));
    dirs.normalised = path.join(root, 'normalised');
    dirs.skewed = path.join(root, 'skewed');
    dirs.tiny = path.join(root, 'tiny');
    await build(dirs.normalised, normalised, 2);
    await build(dirs.skewed, skewed, 3);
    await build(dirs.tiny, tiny, 3);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((searcher) => searcher.dispose()));
    assert.deepEqual(unhandled, [], 'no unhandled rejections');
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await fs.rm(root, { recursive: true, force: true });
  });

  const cases = [
    {
      name: 'normalize, 2 shards',
      dir: () => dirs.normalised,
      m: normalised,
      transform: 'normalize',
    },
    { name: 'mips-l2, 3 shards', dir: () => dirs.skewed, m: skewed, transform: 'mips-l2' },
  ] as const;
  for (const { name, dir, m, transform } of cases) {
    it(`answers exactly as HnswSearcher (${name}), in one batch, one by one and concurrently`, async () => {
      const sync = await loadHnswSearcher(dir(), m);
      const parallel = await load(dir(), m);
      assert.equal(parallel.params.transform, transform);
      assert.equal(parallel.mode, 'ann');
      assert.equal(parallel.threads, parallel.params.shards.length);
      assert.equal(parallel.ef, sync.ef);
      const count = 300;
      const queries = sampleQueryVectors(m, count, { seed: 9 });
      for (const k of [1, 10, 37]) {
        assert.deepEqual(await parallel.search(queries, count, k), sync.search(queries, count, k));
      }
      const one = (q: number) => queries.subarray(q * D, (q + 1) * D);
      const singles = await Promise.all(
        Array.from({ length: 40 }, (_, q) => parallel.search(one(q), 1, 10)),
      );
      assert.deepEqual(
        singles.flat(),
        Array.from({ length: 40 }, (_, q) => sync.search(one(q), 1, 10)).flat(),
      );
      const batches = await Promise.all(
        [0, 8, 16, 24].map((start) => parallel.search(queries.subarray(start * D), 8, 20)),
      );
      assert.deepEqual(batches.flat(), sync.search(queries, 32, 20));
    });
  }

  it('returns every row when k exceeds a shard (and the catalogue), as HnswSearcher does', async () => {
    const sync = await loadHnswSearcher(dirs.tiny, tiny);
    const parallel = await load(dirs.tiny, tiny);
    assert.deepEqual(
      parallel.params.shards.map((s) => s.count),
      [20, 20, 20],
    );
    const queries = sampleQueryVectors(tiny, 12, { seed: 4 });
    for (const k of [15, 20, 21, 50, 60, 1000]) {
      const hits = await parallel.search(queries, 12, k);
      assert.deepEqual(hits, sync.search(queries, 12, k), `k = ${k}`);
      assert.ok(hits.every((hit) => hit.rows.length === Math.min(k, 60)));
    }
  });

  it('checks arguments as HnswSearcher does, through the promise', async () => {
    const sync = await loadHnswSearcher(dirs.normalised, normalised);
    const parallel = await load(dirs.normalised, normalised);
    const queries = sampleQueryVectors(normalised, 2, { seed: 5 });
    assert.deepEqual(await parallel.search(queries, 0, 5), []);
    for (const [count, k] of [
      [2, 0],
      [2, 1.5],
      [-1, 5],
      [3, 5],
    ] as const) {
      const thrown = (() => {
        try {
          sync.search(queries, count, k);
        } catch (error) {
          return error as Error;
        }
        return assert.fail('sync search should throw');
      })();
      await assert.rejects(parallel.search(queries, count, k), {
        name: 'RangeError',
        message: thrown.message,
      });
    }
  });

  it('dispose terminates every worker; later searches reject', async () => {
    const workers: Worker[] = [];
    const parallel = await loadParallelHnswSearcher(dirs.skewed, skewed, {
      onWorker: (worker) => workers.push(worker),
    });
    // Three shards: the calling thread searches the first, a worker each of the other two.
    assert.equal(workers.length, 2);
    assert.equal(parallel.threads, 3);
    const exits = workers.map((w) => new Promise<number>((resolve) => w.once('exit', resolve)));
    const queries = sampleQueryVectors(skewed, 2000, { seed: 6 });
    const pending = assert.rejects(parallel.search(queries, 2000, 10), /disposed/);
    await parallel.dispose();
    await Promise.all(exits);
    assert.ok(
      workers.every((w) => w.threadId === -1),
      'no thread left',
    );
    await pending;
    await assert.rejects(parallel.search(queries, 1, 10), /disposed/);
    assert.equal(parallel.failure, undefined, 'disposing is not failing');
    await parallel.dispose(); // idempotent
  });

  it('fails for good when a worker dies: pending and later searches reject, failure is exposed', async () => {
    const workers: Worker[] = [];
    const failures: Error[] = [];
    const parallel = await load(dirs.normalised, normalised, {
      onWorker: (worker) => workers.push(worker),
      onFailure: (error) => failures.push(error),
    });
    const exits = workers.map((w) => new Promise<number>((resolve) => w.once('exit', resolve)));
    const queries = sampleQueryVectors(normalised, 2000, { seed: 7 });
    // A crash, simulated while the worker is idle (terminate() inside searchKnn aborts the
    // process: see shard-search-worker.ts); the search sent right after is pending on it.
    const killed = workers[0]!.terminate(); // the worker of shard 1
    const pending = parallel.search(queries, 2000, 10).then(
      () => assert.fail('the search should fail'),
      (error: Error) => error,
    );
    await killed;
    const expected =
      /HNSW search worker of shard 1 \(.*hnsw-1\.bin\) exited with code 1; search is unavailable until the process restarts/;
    assert.match((await pending).message, expected);
    assert.match(parallel.failure?.message ?? '', expected);
    assert.deepEqual(failures, [parallel.failure], 'onFailure once, with the failure');
    await assert.rejects(parallel.search(queries, 1, 10), (error) => error === parallel.failure);
    await Promise.all(exits); // the healthy worker is stopped too
    await parallel.dispose();
    assert.equal(failures.length, 1);
  });

  it('refuses a missing or damaged graph file with INDEX.INVALID and stops every worker', async () => {
    const dir = path.join(root, 'damaged');
    await fs.cp(dirs.skewed, dir, { recursive: true });
    const attempt = async (pattern: RegExp) => {
      const workers: Worker[] = [];
      const failures: Error[] = [];
      await rejectsWith(
        loadParallelHnswSearcher(dir, skewed, {
          onWorker: (worker) => workers.push(worker),
          onFailure: (error) => failures.push(error),
        }),
        'INDEX.INVALID',
        pattern,
      );
      assert.equal(workers.length, 2);
      assert.ok(
        workers.every((w) => w.threadId === -1),
        'every worker stopped',
      );
      assert.deepEqual(failures, [], 'a load failure rejects the load, not onFailure');
    };
    // hnsw-2.bin is a worker's shard, hnsw-0.bin the calling thread's.
    for (const name of ['hnsw-2.bin', 'hnsw-0.bin']) {
      const file = path.join(dir, name);
      const bytes = await fs.readFile(file);
      await fs.writeFile(file, bytes.subarray(0, bytes.length >> 1));
      await attempt(
        new RegExp(`graph file .*${name.replace('.', '\\.')} cannot be read by hnswlib`),
      );
      await fs.rm(file);
      await attempt(new RegExp(`graph file .*${name.replace('.', '\\.')} is missing or empty`));
      await fs.writeFile(file, bytes);
    }
  });

  it('checks the manifest against the candidates as loadHnswSearcher does', async () => {
    const changed = new Float32Array(normalised.vectors);
    changed[3] = (changed[3] as number) + 1e-3;
    await rejectsWith(
      loadParallelHnswSearcher(dirs.normalised, { ...normalised, vectors: changed }),
      'INDEX.MISMATCH',
      /was built from the embeddings of an unnamed training run \(candidates sha256 [0-9a-f]{64}\)/,
    );
    await rejectsWith(
      loadParallelHnswSearcher(dirs.normalised, tiny),
      'INDEX.MISMATCH',
      /count 3000 differs from the candidates' 60/,
    );
    await rejectsWith(
      loadParallelHnswSearcher(root, normalised),
      'INDEX.NOT_FOUND',
      /no index\.json/,
    );
  });
});
