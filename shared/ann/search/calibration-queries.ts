import type { CandidateMatrix } from '../types.js';
import { sampleQueryVectors } from './query-sampler.js';

/** How many calibration queries an index build uses unless told otherwise. */
export const DEFAULT_CALIBRATION_QUERIES = 300;

/**
 * The queries an index build calibrates ef on: the bundle's examples encoded
 * by its own query model first (the real query distribution), then sampled
 * vectors up to `total`, because a bundle ships only a few examples and recall
 * needs a few hundred queries to be measured. Used by `recdeploy build-index`,
 * the deploy step and a server that has to build at start-up, so all three
 * calibrate the same way.
 */
export function calibrationQueries(
  encodedExamples: Float32Array,
  candidates: CandidateMatrix,
  total: number = DEFAULT_CALIBRATION_QUERIES,
): Float32Array {
  const dim = candidates.dim;
  const real = encodedExamples.subarray(0, Math.min(encodedExamples.length, total * dim));
  const sampled = sampleQueryVectors(candidates, total - real.length / dim);
  const queries = new Float32Array(real.length + sampled.length);
  queries.set(real);
  queries.set(sampled, real.length);
  return queries;
}
