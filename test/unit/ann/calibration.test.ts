import assert from 'node:assert/strict';
import { PermanentError } from '@recdeploy/shared';
import {
  calibrateEf,
  efSweep,
  recallOf,
  type CalibrationInput,
  type SearchHit,
} from '@recdeploy/shared/ann';

const K = 10;
const hit = (rows: number[]): SearchHit => ({
  rows: Int32Array.from(rows),
  scores: Float32Array.from(rows, (_, i) => -i),
});
const TRUTH = hit([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

/**
 * A stand-in for an HNSW searcher whose recall is a known function of ef:
 * it finds `recallAt(ef) × k` of the true rows and pads with wrong ones.
 */
function fakeSearcher(recallAt: (ef: number) => number) {
  let ef = 0;
  const setCalls: number[] = [];
  return {
    setCalls,
    get ef() {
      return ef;
    },
    mode: 'ann' as const,
    setEf(value: number) {
      ef = value;
      setCalls.push(value);
    },
    search(_queries: Float32Array, queryCount: number): SearchHit[] {
      const found = Math.round(recallAt(ef) * K);
      const rows = [...Array.from({ length: found }, (_, i) => i)];
      for (let i = found; i < K; i++) rows.push(1000 + i);
      return Array.from({ length: queryCount }, () => hit(rows));
    },
  };
}

function input(
  searcher: CalibrationInput['searcher'],
  overrides: Partial<CalibrationInput> = {},
): CalibrationInput {
  return {
    searcher,
    queries: new Float32Array(4 * 2),
    queryCount: 4,
    dim: 2,
    truth: [TRUTH, TRUTH, TRUTH, TRUTH],
    k: K,
    target: 0.96,
    floor: 0.95,
    efCandidates: [100, 150, 200, 300, 400, 600, 800],
    ...overrides,
  };
}

describe('ef calibration', () => {
  it('chooses the smallest ef whose recall reaches the target and stops sweeping there', () => {
    const searcher = fakeSearcher((ef) => (ef >= 300 ? 1 : ef >= 150 ? 0.9 : 0.5));
    const report = calibrateEf(input(searcher));
    assert.equal(report.chosen, 300);
    assert.deepEqual(
      report.sweep.map((p) => [p.ef, p.recall]),
      [
        [100, 0.5],
        [150, 0.9],
        [200, 0.9],
        [300, 1],
      ],
    );
    assert.equal(report.met_target, true);
    assert.equal(searcher.ef, 300, 'the searcher is left at the chosen ef');
  });

  it('falls back to the largest ef when only the floor is reachable', () => {
    // 0.95 ≤ recall < 0.96 needs a k of 100 to express; use k = 20 via truth of 20 rows.
    const truth20 = hit(Array.from({ length: 20 }, (_, i) => i));
    const searcher = {
      mode: 'ann' as const,
      setEf: () => undefined,
      search: (_q: Float32Array, n: number) =>
        Array.from({ length: n }, () => hit([...Array.from({ length: 19 }, (_, i) => i), 999])),
    };
    const report = calibrateEf(
      input(searcher, { k: 20, truth: [truth20, truth20, truth20, truth20] }),
    );
    assert.equal(report.met_target, false);
    assert.equal(report.chosen, 800);
    assert.equal(report.recall, 0.95);
  });

  it('fails with INDEX.RECALL_TOO_LOW naming the best recall when the largest ef misses the floor', () => {
    const searcher = fakeSearcher((ef) => (ef >= 800 ? 0.9 : 0.5));
    assert.throws(
      () => calibrateEf(input(searcher)),
      (error: unknown) => {
        assert.ok(error instanceof PermanentError);
        assert.equal(error.code, 'INDEX.RECALL_TOO_LOW');
        assert.match(error.message, /reached at most 0\.9000 \(ef=800\), below the floor 0\.95/);
        assert.equal(error.metadata.best_recall, 0.9);
        return true;
      },
    );
  });

  it('never sweeps an ef below k, and sorts and deduplicates the candidates', () => {
    assert.deepEqual(efSweep([800, 50, 100, 150, 100], 120), [120, 150, 800]);
    assert.throws(() => efSweep([], 10), RangeError);
    assert.throws(() => efSweep([0], 10), RangeError);
  });

  it('measures recall as the share of the exact top-k found, order ignored', () => {
    assert.equal(recallOf(hit([9, 8, 7, 100]), hit([7, 8, 9, 10])), 0.75);
    assert.equal(recallOf(hit([]), hit([])), 1);
    assert.equal(recallOf(undefined, hit([1])), 0);
  });
});
