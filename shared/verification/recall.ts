/**
 * Recall@k of a served ranked list against the exact top-k, on original
 * product ids. Ids compare as they are (type-aware: "1001" is not 1001), so a
 * revision that returns ids of the wrong type or row indices scores 0.
 */
import type { ProductId } from '../ann/types.js';

/** |first k served ∩ exact| / k, where k = exact.length (0 < k). */
export function recallAtK(served: readonly unknown[], exact: readonly ProductId[]): number {
  if (exact.length === 0) throw new RangeError('recall@k needs a non-empty exact top-k');
  const truth = new Set<unknown>(exact);
  const found = new Set(served.slice(0, exact.length).filter((id) => truth.has(id)));
  return found.size / exact.length;
}

/** Mean of `values` and the position of the lowest one. */
export function meanAndWorst(values: readonly number[]): {
  mean: number;
  worst: number;
  at: number;
} {
  let sum = 0;
  let at = 0;
  for (const [i, value] of values.entries()) {
    sum += value;
    if (value < values[at]!) at = i;
  }
  return { mean: sum / values.length, worst: values[at]!, at };
}
