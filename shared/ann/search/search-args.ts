/**
 * Argument checks shared by every Searcher, so exact and ANN modes reject the
 * same mistakes with the same messages.
 */

/**
 * Validates a `search` call and returns the effective k: `min(k, count)`,
 * since asking for more neighbours than there are candidates returns them all.
 * @throws RangeError on a non-positive or fractional k, a negative or
 *   fractional query count, or a query buffer shorter than queryCount × dim.
 */
export function effectiveK(
  queries: Float32Array,
  queryCount: number,
  dim: number,
  count: number,
  k: number,
): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (!Number.isInteger(queryCount) || queryCount < 0) {
    throw new RangeError(`queryCount must be a non-negative integer, got ${queryCount}`);
  }
  if (queries.length < queryCount * dim) {
    throw new RangeError(
      `queries hold ${queries.length} floats, fewer than queryCount × dim = ${queryCount} × ${dim}`,
    );
  }
  return Math.min(k, count);
}
