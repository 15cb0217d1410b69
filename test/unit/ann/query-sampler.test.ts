import assert from 'node:assert/strict';
import { sampleQueryVectors, type CandidateMatrix } from '@recdeploy/shared/ann';
import { clusteredVectors } from '../../support/ann-vectors.js';

const D = 8;

describe('sampleQueryVectors', () => {
  const m: CandidateMatrix = {
    vectors: clusteredVectors({ count: 100, dim: D }),
    count: 100,
    dim: D,
  };

  it('is reproducible for a seed and differs across seeds', () => {
    const a = sampleQueryVectors(m, 50, { seed: 9 });
    assert.equal(a.length, 50 * D);
    assert.deepEqual(a, sampleQueryVectors(m, 50, { seed: 9 }));
    assert.notDeepEqual(a, sampleQueryVectors(m, 50, { seed: 10 }));
  });

  it('produces finite vectors at the candidates scale that are not copies of items', () => {
    const a = sampleQueryVectors(m, 50, { seed: 9 });
    assert.ok(a.every(Number.isFinite));
    const norm = (v: Float32Array) => Math.hypot(...v);
    const itemNorm = norm(m.vectors.subarray(0, D));
    for (let q = 0; q < 50; q++) {
      const query = a.subarray(q * D, (q + 1) * D);
      assert.ok(norm(query) > itemNorm / 4 && norm(query) < itemNorm * 4, `query ${q} scale`);
      for (let row = 0; row < m.count; row++) {
        assert.notDeepEqual(query, m.vectors.subarray(row * D, (row + 1) * D));
      }
    }
  });

  it('returns zeros rather than failing on an empty catalogue', () => {
    const empty = sampleQueryVectors({ vectors: new Float32Array(0), count: 0, dim: D }, 3);
    assert.deepEqual(empty, new Float32Array(3 * D));
  });
});
