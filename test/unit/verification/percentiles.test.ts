import assert from 'node:assert/strict';
import { latencySummary, percentile } from '../../../shared/verification/index.js';

describe('verification percentiles (nearest rank)', () => {
  const fifty = Array.from({ length: 50 }, (_, i) => 50 - i); // 50, 49, …, 1: unsorted input

  it('p50 of 50 samples is the 25th smallest, p99 the largest', () => {
    assert.equal(percentile(fifty, 50), 25);
    assert.equal(percentile(fifty, 99), 50);
    assert.deepEqual(latencySummary(fifty), { p50: 25, p99: 50 });
  });

  it('p99 of 200 samples is the 198th smallest, not the maximum', () => {
    const samples = Array.from({ length: 200 }, (_, i) => i + 1);
    assert.equal(percentile(samples, 99), 198);
    assert.equal(percentile(samples, 100), 200);
  });

  it('returns measured values only (no interpolation)', () => {
    assert.equal(percentile([10, 20], 50), 10);
    assert.equal(percentile([10, 20, 30, 40], 50), 20);
    assert.equal(percentile([7.5], 99), 7.5);
  });

  it('does not reorder the caller’s samples', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    assert.deepEqual(samples, [3, 1, 2]);
  });

  it('refuses an empty list and a percentile outside (0, 100]', () => {
    assert.throws(() => percentile([], 50), /percentile of no samples/);
    assert.throws(() => percentile([1], 0), /must be in \(0, 100\], got 0/);
    assert.throws(() => percentile([1], 101), /got 101/);
  });
});
