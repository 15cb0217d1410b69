import assert from 'node:assert/strict';
import {
  LoopExactSearcher,
  createExactSearcher,
  type CandidateMatrix,
  type ExactSearcher,
  type SearchHit,
} from '@recdeploy/shared/ann';
import { seeded } from '../../support/ann-vectors.js';

/** The obviously-correct answer: score everything, sort, cut. */
function naiveTopK(m: CandidateMatrix, query: Float32Array, k: number): SearchHit {
  const all = Array.from({ length: m.count }, (_, row) => {
    let score = 0;
    for (let d = 0; d < m.dim; d++)
      score += (m.vectors[row * m.dim + d] as number) * (query[d] as number);
    return { row, score };
  });
  all.sort((a, b) => b.score - a.score || a.row - b.row);
  const top = all.slice(0, Math.min(k, m.count));
  return {
    rows: Int32Array.from(top.map((t) => t.row)),
    scores: Float32Array.from(top.map((t) => t.score)),
  };
}

function matrix(count: number, dim: number, value: () => number): CandidateMatrix {
  return { vectors: Float32Array.from({ length: count * dim }, value), count, dim };
}

/** Small integers: every dot product is exact in float32, and ties abound. */
const smallInts = (seed: number) => {
  const random = seeded(seed);
  return () => Math.floor(random() * 3) - 1;
};
const uniform = (seed: number) => {
  const random = seeded(seed);
  return () => random() * 2 - 1;
};

function assertSortedDescending(hit: SearchHit): void {
  for (let i = 1; i < hit.scores.length; i++) {
    assert.ok((hit.scores[i - 1] as number) >= (hit.scores[i] as number), `scores[${i}] rises`);
  }
}

const kernels = ['loop', 'tfjs'] as const;

for (const kernel of kernels) {
  describe(`exact searcher (${kernel})`, () => {
    let searchers: ExactSearcher[] = [];
    const make = async (m: CandidateMatrix) => {
      const searcher = await createExactSearcher(m, { kernel });
      searchers.push(searcher);
      return searcher;
    };
    afterEach(() => {
      searchers.forEach((s) => s.dispose());
      searchers = [];
    });

    it('reports its kernel and exact mode', async () => {
      const searcher = await make(matrix(10, 4, uniform(1)));
      assert.equal(searcher.kernel, kernel);
      assert.equal(searcher.mode, 'exact');
    });

    it('matches the naive reference under heavy ties (lower row first)', async () => {
      const m = matrix(400, 4, smallInts(2));
      const queries = matrix(20, 4, smallInts(3)).vectors;
      const searcher = await make(m);
      const hits = searcher.search(queries, 20, 25);
      hits.forEach((hit, q) => {
        const expected = naiveTopK(m, queries.subarray(q * 4, q * 4 + 4), 25);
        assert.deepEqual(hit.rows, expected.rows, `query ${q} rows`);
        assert.deepEqual(hit.scores, expected.scores, `query ${q} scores`);
      });
    });

    it('matches the reference on random floats, for D not a multiple of 4', async () => {
      const m = matrix(1000, 13, uniform(4));
      const queries = matrix(8, 13, uniform(5)).vectors;
      const hits = (await make(m)).search(queries, 8, 50);
      hits.forEach((hit, q) => {
        const expected = naiveTopK(m, queries.subarray(q * 13, q * 13 + 13), 50);
        assert.deepEqual(hit.rows, expected.rows, `query ${q} rows`);
        hit.scores.forEach((s, i) =>
          assert.ok(Math.abs(s - (expected.scores[i] as number)) < 1e-5),
        );
        assertSortedDescending(hit);
      });
    });

    it('returns all N rows when k > N, and the same when k = N', async () => {
      const m = matrix(30, 8, uniform(6));
      const query = matrix(1, 8, uniform(7)).vectors;
      const searcher = await make(m);
      const [over] = searcher.search(query, 1, 100);
      const [equal] = searcher.search(query, 1, 30);
      assert.ok(over && equal);
      assert.equal(over.rows.length, 30);
      assert.deepEqual(over, equal);
      assert.deepEqual(
        [...over.rows].sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i),
      );
      assertSortedDescending(over);
    });

    it('answers a batch exactly as it answers each query alone', async () => {
      const m = matrix(500, 16, uniform(8));
      const queries = matrix(33, 16, uniform(9)).vectors;
      const searcher = await make(m);
      const batch = searcher.search(queries, 33, 10);
      assert.equal(batch.length, 33);
      batch.forEach((hit, q) => {
        const [alone] = searcher.search(queries.subarray(q * 16, (q + 1) * 16), 1, 10);
        assert.deepEqual(hit, alone, `query ${q}`);
      });
    });

    it('returns no hits for zero queries and rejects invalid arguments', async () => {
      const searcher = await make(matrix(10, 4, uniform(10)));
      assert.deepEqual(searcher.search(new Float32Array(0), 0, 5), []);
      assert.throws(() => searcher.search(new Float32Array(4), 1, 0), RangeError);
      assert.throws(() => searcher.search(new Float32Array(4), 1, 2.5), RangeError);
      assert.throws(() => searcher.search(new Float32Array(4), 2, 3), /fewer than queryCount/);
    });
  });
}

describe('createExactSearcher', () => {
  it('picks TF.js on the wasm backend, where it measured 4–20× faster than the loop', async () => {
    const searcher = await createExactSearcher(matrix(10, 4, uniform(11)));
    assert.equal(searcher.kernel, 'tfjs');
    searcher.dispose();
  });

  it('exposes the loop as a plain class for callers that want no TF.js', () => {
    const m = matrix(50, 4, smallInts(12));
    const query = Float32Array.of(1, -1, 0, 1);
    assert.deepEqual(new LoopExactSearcher(m).search(query, 1, 7)[0], naiveTopK(m, query, 7));
  });
});
