/**
 * What the `replay` check measures on each replayed query: how much of the
 * candidate's top-k the live revision also answers, and whether the
 * candidate's answer is degenerate, by the definition the canary judgement
 * uses on live traffic (shared/domain/degenerate-answer.ts, which
 * services/ann-serving logs the same way) plus placeholder ids.
 */
import { degenerateReason } from '../domain/degenerate-answer.js';
import type { RankedList } from './predict-response.js';

/** |first k of a ∩ first k of b| / k (0 < k). */
export function overlapAtK(a: readonly unknown[], b: readonly unknown[], k: number): number {
  if (!(k > 0)) throw new RangeError(`overlap@k needs k > 0, got ${k}`);
  const other = new Set(b.slice(0, k));
  const shared = new Set(a.slice(0, k).filter((id) => other.has(id)));
  return shared.size / k;
}

/**
 * Ids a server writes where it has no product: ann-serving's -1 (int64
 * catalogues) and "" (string catalogues) for rows it could not rank.
 */
function isPlaceholder(id: unknown): boolean {
  return id === -1 || id === '' || id === null;
}

/**
 * Empty, fewer than the k the revision must return, all scores equal, a NaN
 * score, or a placeholder id: an answer a customer would not want.
 */
export function isDegenerateAnswer(list: RankedList, k: number): boolean {
  return (
    degenerateReason(list.productIds, list.scores, k) !== undefined ||
    list.productIds.some(isPlaceholder)
  );
}
