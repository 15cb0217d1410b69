import assert from 'node:assert/strict';
import { recallAtK } from '../../../shared/verification/index.js';
import { meanAndWorst } from '../../../shared/verification/recall.js';

describe('verification recall@k', () => {
  it('counts the served ids among the exact top-k, in any order', () => {
    assert.equal(recallAtK([4, 3, 2, 1], [1, 2, 3, 4]), 1);
    assert.equal(recallAtK([1, 2, 9, 8], [1, 2, 3, 4]), 0.5);
    assert.equal(recallAtK([], [1, 2]), 0);
  });

  it('looks at the first k served ids only, and counts a repeated id once', () => {
    assert.equal(recallAtK([9, 8, 1, 2], [1, 2]), 0);
    assert.equal(recallAtK([1, 1], [1, 2]), 0.5);
  });

  it('compares ids type-aware: "1" is not 1', () => {
    assert.equal(recallAtK(['1', '2'], [1, 2]), 0);
  });

  it('refuses an empty exact list', () => {
    assert.throws(() => recallAtK([1], []), /non-empty exact top-k/);
  });

  it('finds the mean and the worst query', () => {
    assert.deepEqual(meanAndWorst([1, 0.5, 0.75, 0.5]), { mean: 0.6875, worst: 0.5, at: 1 });
  });
});
