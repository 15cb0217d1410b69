import assert from 'node:assert/strict';
import { extendCandidates, generateSampleData, SeededRandom } from '@recdeploy/shared/ann';

const DIM = 8;

/** Unit vectors near e0 for category 0 and near e1 for category 1. */
function trainedVectors(categories: Int32Array, random: SeededRandom): Float32Array {
  const out = new Float32Array(categories.length * DIM);
  for (let p = 0; p < categories.length; p++) {
    let norm = 0;
    for (let d = 0; d < DIM; d++) {
      const v = (d === categories[p] ? 1 : 0) + 0.1 * random.normal();
      out[p * DIM + d] = v;
      norm += v * v;
    }
    for (let d = 0; d < DIM; d++) out[p * DIM + d]! /= Math.sqrt(norm);
  }
  return out;
}

describe('synthetic catalogue (large sample bundles)', () => {
  const count = 400;
  const trained = 40;
  const category = Int32Array.from({ length: count }, (_, p) => p % 2);
  const catalogue = {
    count,
    category,
    tier: new Int32Array(count),
    popularity: new Float64Array(count).fill(1),
  };
  const vectors = trainedVectors(category.subarray(0, trained), new SeededRandom(1));

  it('keeps the trained rows and adds unit vectors in their own cluster', () => {
    const out = extendCandidates(vectors, trained, catalogue, DIM, new SeededRandom(2));
    assert.equal(out.length, count * DIM);
    assert.deepEqual(out.subarray(0, trained * DIM), vectors);
    for (let p = trained; p < count; p++) {
      const row = out.subarray(p * DIM, (p + 1) * DIM);
      const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
      assert.ok(Math.abs(norm - 1) < 1e-5, `row ${p} has norm ${norm}`);
      const own = category[p]!;
      assert.ok(row[own]! > row[1 - own]!, `row ${p} is not nearer its category centre`);
    }
  });

  it("keeps the trained residuals' directions: no noise where trained products never vary", () => {
    // Trained products vary only in dimensions 2–4 around e0 / e1; isotropic noise would fill 5–7 too.
    const random = new SeededRandom(3);
    const shaped = new Float32Array(trained * DIM);
    for (let p = 0; p < trained; p++) {
      shaped[p * DIM + category[p]!] = 1;
      for (const d of [2, 3, 4]) shaped[p * DIM + d] = 0.2 * random.normal();
    }
    const out = extendCandidates(shaped, trained, catalogue, DIM, new SeededRandom(4));
    const variance = new Float64Array(DIM);
    for (let p = trained; p < count; p++)
      for (let d = 0; d < DIM; d++) variance[d]! += out[p * DIM + d]! ** 2 / (count - trained);
    for (const d of [5, 6, 7]) assert.ok(variance[d]! < 1e-12, `dimension ${d}: ${variance[d]}`);
    for (const d of [2, 3, 4]) assert.ok(variance[d]! > 1e-3, `dimension ${d}: ${variance[d]}`);
  });

  it("scales the noise to each group's own spread", () => {
    // Category 0 is tight (σ 0.02), category 1 loose (σ 0.2).
    const random = new SeededRandom(5);
    const spreadOf = (c: number) => (c === 0 ? 0.02 : 0.2);
    const mixed = new Float32Array(trained * DIM);
    for (let p = 0; p < trained; p++) {
      mixed[p * DIM + category[p]!] = 1;
      for (let d = 2; d < DIM; d++) mixed[p * DIM + d] = spreadOf(category[p]!) * random.normal();
    }
    const out = extendCandidates(mixed, trained, catalogue, DIM, new SeededRandom(6));
    const offAxis = [0, 0];
    for (let p = trained; p < count; p++) {
      let squares = 0;
      for (let d = 2; d < DIM; d++) squares += out[p * DIM + d]! ** 2;
      offAxis[category[p]!]! += Math.sqrt(squares);
    }
    // Same number of products per category, so the sums compare directly; expected ratio ≈ 10.
    assert.ok(offAxis[1]! > 5 * offAxis[0]!, `loose ${offAxis[1]} vs tight ${offAxis[0]}`);
  });

  it('is deterministic for a seed', () => {
    const a = extendCandidates(vectors, trained, catalogue, DIM, new SeededRandom(5));
    const b = extendCandidates(vectors, trained, catalogue, DIM, new SeededRandom(5));
    const c = extendCandidates(vectors, trained, catalogue, DIM, new SeededRandom(6));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe('sample data', () => {
  it('is deterministic for a seed and holds out 10% of purchases', () => {
    const make = (seed: number) =>
      generateSampleData({
        products: 200,
        trainedWhenLarge: 100,
        customers: 50,
        random: new SeededRandom(seed),
      });
    const a = make(3);
    const b = make(3);
    assert.deepEqual(a.train.product, b.train.product);
    assert.deepEqual(a.testRows, b.testRows);
    assert.notDeepEqual(make(4).train.product, a.train.product);
    const total = a.train.product.length + a.test.product.length;
    assert.equal(a.test.product.length, Math.round(total * 0.1));
    assert.deepEqual(Object.keys(a.trainRows[0]!), ['customer_id', 'city', 'segment', 'revenue']);
  });

  it('trains only the first products of a large catalogue', () => {
    const data = generateSampleData({
      products: 25_000,
      trainedWhenLarge: 300,
      customers: 20,
      random: new SeededRandom(1),
    });
    assert.equal(data.catalogue.count, 25_000);
    assert.equal(data.trained.count, 300);
    assert.ok(data.train.product.every((p) => p < 300));
  });
});
