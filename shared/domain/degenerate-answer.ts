/**
 * When a ranked answer is degenerate: a revision can return it with 200 while
 * being broken (an index that lost its vectors answers the same products with
 * equal scores for everyone). One definition for the local router's canary
 * metrics (adapters/local/local-answer-inspection.ts) and verify's replay
 * report; services/ann-serving logs the same reasons per answer
 * (its metrics/degenerate-answers.ts, on typed arrays).
 *
 * Degenerate: no ids; two or more scores that are all equal; a NaN score (a
 * query with a non-finite input or embedding has no ranking; with k = 1
 * nothing can tie); fewer ids than `k`, when k is known.
 */

export type DegenerateReason = 'no_ids' | 'scores_all_equal' | 'nan_scores' | 'fewer_than_k';

/** Why one prediction is degenerate, or undefined when it is fine. */
export function degenerateReason(
  ids: readonly unknown[],
  scores: readonly unknown[],
  k: number | undefined,
): DegenerateReason | undefined {
  if (ids.length === 0) return 'no_ids';
  if (scores.length >= 2 && scores.every((score) => Object.is(score, scores[0]))) {
    return 'scores_all_equal';
  }
  // TF Serving's bare NaN token reaches readers as the string "NaN" or as NaN.
  if (scores.some((score) => score === 'NaN' || Number.isNaN(score))) return 'nan_scores';
  if (k !== undefined && ids.length < k) return 'fewer_than_k';
  return undefined;
}
