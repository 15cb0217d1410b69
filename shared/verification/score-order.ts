/**
 * Scores of one ranked list must be finite numbers, best first: retrieval
 * returns the top k by dot product, so any increase means the server sorted
 * wrongly or paired ids with the wrong scores.
 */
import { preview } from './format.js';

/** The first problem of `scores`, or undefined when they are finite and non-increasing. */
export function scoreOrderProblem(scores: readonly unknown[]): string | undefined {
  for (const [position, score] of scores.entries()) {
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      const shown = typeof score === 'number' ? String(score) : preview(score);
      return `score at position ${position} is ${shown}, not a finite number`;
    }
    const previous = scores[position - 1];
    if (typeof previous === 'number' && score > previous) {
      return `scores increase at position ${position}: ${score} after ${previous}`;
    }
  }
  return undefined;
}
