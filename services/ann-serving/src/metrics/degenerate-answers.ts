/**
 * Degenerate answers: a prediction that is served with 200 but cannot be a
 * useful recommendation. In the cloud a log-based metric counts the
 * "degenerate answer" lines logged here, so a canary judgement can compare
 * revisions on them; on one machine the service router inspects the same
 * answers by the same definition (shared/adapters/local/local-answer-inspection.ts):
 * - no_ids: no product at all;
 * - scores_all_equal: two or more scores, all equal (NaN scores included:
 *   the query had no ranking);
 * - nan_scores: a NaN score where the rules above found nothing (a single
 *   score, k = 1): the query had a NaN or ±Infinity input, or an embedding
 *   that is not finite, so it has no ranking and its ids are placeholders
 *   (model/bundle-serving-model.ts);
 * - fewer_than_k: fewer products than the request's explicit `k` (a
 *   catalogue smaller than k). Without an explicit k this rule does not
 *   apply, as the router cannot know the model's default.
 * The line also counts the answer's predictions with NaN scores
 * (`nanScorePredictions`), so non-finite queries are never served silently.
 */
import type { Logger } from '@recdeploy/shared';
import type { Prediction } from '../protocol/predict-response.js';

export type DegenerateReason = 'no_ids' | 'scores_all_equal' | 'nan_scores' | 'fewer_than_k';

export function degenerateReason(
  prediction: Prediction,
  explicitK: number | undefined,
): DegenerateReason | undefined {
  const { productIds, scores } = prediction;
  if (productIds.length === 0) return 'no_ids';
  if (scores.length >= 2) {
    const first = scores[0]!;
    let allEqual = true;
    for (let i = 1; i < scores.length && allEqual; i++) allEqual = Object.is(scores[i], first);
    if (allEqual) return 'scores_all_equal';
  }
  if (hasNaN(scores)) return 'nan_scores';
  if (explicitK !== undefined && productIds.length < explicitK) return 'fewer_than_k';
  return undefined;
}

function hasNaN(scores: ArrayLike<number>): boolean {
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) return true;
  return false;
}

/**
 * One warn line per answer with a degenerate prediction (the unit the canary
 * judges: answers, the denominator being Cloud Run's 2xx requests), naming
 * the first degenerate prediction's reason and how many of the answer's
 * predictions were degenerate.
 */
export function logDegenerateAnswers(
  predictions: readonly Prediction[],
  explicitK: number | undefined,
  model: string,
  logger: Logger,
): void {
  let first: { reason: DegenerateReason; instance: number; ids: number } | undefined;
  let count = 0;
  let nanScores = 0;
  predictions.forEach((prediction, instance) => {
    const reason = degenerateReason(prediction, explicitK);
    if (reason === undefined) return;
    count += 1;
    if (hasNaN(prediction.scores)) nanScores += 1;
    first ??= { reason, instance, ids: prediction.productIds.length };
  });
  if (first === undefined) return;
  logger.warn('degenerate answer', {
    reason: first.reason,
    model,
    instance: first.instance,
    ids: first.ids,
    degeneratePredictions: count,
    ...(nanScores === 0 ? {} : { nanScorePredictions: nanScores }),
    predictions: predictions.length,
    ...(explicitK === undefined ? {} : { k: explicitK }),
  });
}
