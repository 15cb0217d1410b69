import assert from 'node:assert/strict';
import { SeededRandom } from '../../../shared/ann/sample/random.js';
import { Reservoir } from '../../../services/ann-serving/src/replay/reservoir.js';

function seeded(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

function fill(reservoir: Reservoir<number>, count: number): void {
  for (let i = 0; i < count; i++) reservoir.offer(() => i);
}

describe('replay reservoir (Algorithm R)', () => {
  it('keeps every item while under capacity, then never more than capacity, counting all', () => {
    const reservoir = new Reservoir<number>(5, seeded(1));
    fill(reservoir, 3);
    assert.deepEqual(reservoir.items(), [0, 1, 2]);
    fill(reservoir, 1000);
    assert.equal(reservoir.size, 5);
    assert.equal(reservoir.seen, 1003);
    assert.equal(new Set(reservoir.items()).size, 5, 'no item held twice');
  });

  it('holds each item of a stream with the same probability capacity/n (fixed seeds, 20,000 trials)', () => {
    const n = 10;
    const capacity = 3;
    const trials = 20_000;
    const held = new Array<number>(n).fill(0);
    const random = seeded(42);
    for (let t = 0; t < trials; t++) {
      const reservoir = new Reservoir<number>(capacity, random);
      fill(reservoir, n);
      for (const item of reservoir.items()) held[item]!++;
    }
    // Expected 6,000 each; one standard deviation is about 65, so ±300 fails only a biased sampler.
    const expected = (trials * capacity) / n;
    for (const [item, count] of held.entries()) {
      assert.ok(
        Math.abs(count - expected) < 300,
        `item ${item} held ${count} times, expected ≈ ${expected}`,
      );
    }
  });

  it('shapes only the items it keeps', () => {
    const reservoir = new Reservoir<number>(2, seeded(3));
    let made = 0;
    for (let i = 0; i < 1000; i++) {
      reservoir.offer(() => {
        made++;
        return i;
      });
    }
    // Item i > 2 is kept with probability 2/i: about 2·ln(1000/2) ≈ 14 in all, never 1000.
    assert.ok(made < 40, `made ${made}`);
    assert.equal(reservoir.seen, 1000);
  });

  it('continues from a restored sample: its items and count; a smaller capacity keeps a subset', () => {
    const reservoir = new Reservoir<number>(3, seeded(5));
    const before = reservoir.version;
    reservoir.restore([10, 11], 500);
    assert.deepEqual(reservoir.items(), [10, 11]);
    assert.equal(reservoir.seen, 500);
    assert.notEqual(reservoir.version, before, 'a restore counts as a change');

    const smaller = new Reservoir<number>(2, seeded(6));
    smaller.restore([1, 2, 3, 4, 5], 9);
    assert.equal(smaller.size, 2);
    assert.ok(smaller.items().every((item) => [1, 2, 3, 4, 5].includes(item)));
    assert.equal(smaller.seen, 9);
  });

  it('capacity 0 keeps nothing and refuses a negative or fractional capacity', () => {
    const empty = new Reservoir<number>(0, seeded(1));
    fill(empty, 10);
    assert.equal(empty.size, 0);
    assert.equal(empty.seen, 10);
    assert.throws(() => new Reservoir<number>(-1), RangeError);
    assert.throws(() => new Reservoir<number>(1.5), RangeError);
  });
});
