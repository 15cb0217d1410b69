/**
 * Reads a row-format predict answer (`{"predictions":[{"product_ids":[…],
 * "scores":[…]}, …]}`, DESIGN.md §6) into one ranked list per instance, or
 * says precisely what is not in that shape.
 */
import { preview } from './format.js';
import { parseServingJson } from './serving-json.js';

/** One instance's answer; values are as the server wrote them, checked later. */
export interface RankedList {
  readonly productIds: readonly unknown[];
  readonly scores: readonly unknown[];
}

/** Parses `body`, which must hold exactly `instanceCount` predictions. */
export function parsePredictions(
  body: string,
  instanceCount: number,
): { readonly lists: RankedList[] } | { readonly problem: string } {
  let parsed: unknown;
  try {
    parsed = parseServingJson(body);
  } catch (error) {
    return { problem: `the answer is not JSON (${(error as Error).message}): ${preview(body)}` };
  }
  const predictions = isObject(parsed) ? parsed.predictions : undefined;
  if (!Array.isArray(predictions)) {
    return { problem: `the answer has no "predictions" array: ${preview(parsed)}` };
  }
  if (predictions.length !== instanceCount) {
    return {
      problem: `${predictions.length} predictions for ${instanceCount} instances`,
    };
  }
  const lists: RankedList[] = [];
  for (const [i, prediction] of (predictions as unknown[]).entries()) {
    const ids = isObject(prediction) ? prediction.product_ids : undefined;
    const scores = isObject(prediction) ? prediction.scores : undefined;
    if (!Array.isArray(ids) || !Array.isArray(scores)) {
      return {
        problem:
          `prediction ${i} is not {"product_ids": [...], "scores": [...]}: ` + preview(prediction),
      };
    }
    lists.push({ productIds: ids as unknown[], scores: scores as unknown[] });
  }
  return { lists };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
