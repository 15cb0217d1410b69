import assert from 'node:assert/strict';
import { scoreOrderProblem } from '../../../shared/verification/index.js';

describe('verification score order', () => {
  it('accepts finite non-increasing scores, ties and negatives included', () => {
    assert.equal(scoreOrderProblem([0.9, 0.5, 0.5, -0.1, -3]), undefined);
    assert.equal(scoreOrderProblem([]), undefined);
    assert.equal(scoreOrderProblem([1]), undefined);
  });

  it('names the first increase with both values', () => {
    assert.equal(
      scoreOrderProblem([0.9, 0.5, 0.7, 0.8]),
      'scores increase at position 2: 0.7 after 0.5',
    );
  });

  it('refuses non-finite scores, including TF Serving’s bare NaN tokens read as strings', () => {
    assert.equal(
      scoreOrderProblem([0.9, 'NaN', 0.1]),
      'score at position 1 is "NaN", not a finite number',
    );
    assert.equal(
      scoreOrderProblem([Number.POSITIVE_INFINITY]),
      'score at position 0 is Infinity, not a finite number',
    );
    assert.equal(
      scoreOrderProblem([0.3, null]),
      'score at position 1 is null, not a finite number',
    );
    assert.equal(
      scoreOrderProblem([0.3, '0.2']),
      'score at position 1 is "0.2", not a finite number',
    );
  });
});
