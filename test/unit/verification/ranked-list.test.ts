import assert from 'node:assert/strict';
import type { ManifestInput } from '@recdeploy/shared/ann';
import { productIdCatalogue } from '../../../shared/verification/index.js';
import { inputProblems } from '../../../shared/verification/checks/metadata-inputs.js';
import { rankedListProblems } from '../../../shared/verification/checks/smoke-predictions.js';

describe('verification: one ranked list, one signature', () => {
  const catalogue = productIdCatalogue(['A', 'B', 'C', 'D'], 'string');

  it('accepts exactly k original ids with finite non-increasing scores', () => {
    assert.deepEqual(
      rankedListProblems({ productIds: ['C', 'A'], scores: [0.9, 0.1] }, 2, catalogue),
      [],
    );
  });

  it('lists every problem of a list: counts, ids, scores', () => {
    assert.deepEqual(
      rankedListProblems({ productIds: ['C', 'X'], scores: [0.1, 0.9, 0.8] }, 3, catalogue),
      [
        'expected 3 product_ids, got 2',
        'product id "X" at position 1 is not in product_ids.json (4 ids such as "A", "B", "C")',
        'scores increase at position 1: 0.9 after 0.1',
      ],
    );
  });

  const manifestInputs: ManifestInput[] = [
    {
      name: 'city',
      dtype: 'string',
      preprocessing: { kind: 'vocabulary', vocabulary_file: 'v', num_oov_buckets: 0 },
    },
    { name: 'age', dtype: 'int64', preprocessing: { kind: 'identity' } },
    { name: 'revenue', dtype: 'float32', preprocessing: { kind: 'z_score', mean: 0, std: 1 } },
  ];

  it('accepts a signature with exactly the manifest inputs and dtypes', () => {
    const served = new Map([
      ['revenue', 'DT_FLOAT'],
      ['city', 'DT_STRING'],
      ['age', 'DT_INT64'],
    ]);
    assert.deepEqual(inputProblems(manifestInputs, served), []);
  });

  it('names missing, mistyped and unexpected inputs', () => {
    const served = new Map<string, unknown>([
      ['city', 'DT_STRING'],
      ['revenue', 'DT_DOUBLE'],
      ['segment', 'DT_STRING'],
    ]);
    assert.deepEqual(inputProblems(manifestInputs, served), [
      'missing input "age" (DT_INT64)',
      'input "revenue" is "DT_DOUBLE", the manifest says float32 (DT_FLOAT)',
      'unexpected input "segment" ("DT_STRING")',
    ]);
  });
});
