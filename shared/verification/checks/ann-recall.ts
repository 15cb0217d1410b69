/**
 * `ann_recall` (ann-serving in `ann` mode only): the revision's approximate
 * results against exact search computed here, on the bundle's own query
 * tower. Queries: the bundle's examples, then instances sampled from its
 * input space up to `recallQueries`, with a seed other than the index
 * build's calibration seed, so the revision is judged on queries its `ef`
 * was not tuned on. Both sides encode the same instances, so a wrong index
 * (built for other embeddings, corrupt graph, too small ef) shows as low
 * recall, while ids of the wrong kind score zero.
 */
// Module by module rather than the ann entry point, which would load hnswlib's native addon.
import type { ModelBundle } from '../../ann/bundle/bundle-reader.js';
import { sampleInstances } from '../../ann/bundle/sample-instances.js';
import type { ProductId } from '../../ann/types.js';
import type { VerificationCheck } from '../../domain/run-document.js';
import { RecdeployError } from '../../errors.js';
import { CHECK_NAMES } from '../check-names.js';
import { checkResult, type CheckContext } from '../check-context.js';
import { BUNDLE_FAULTS, exactTopK } from '../exact-top-k.js';
import { roundRatio } from '../format.js';
import { predictInChunks } from '../predict-in-chunks.js';
import { meanAndWorst, recallAtK } from '../recall.js';

/** Seed of the sampled queries; index calibration uses sampleInstances' default seed 1. */
export const RECALL_QUERY_SEED = 2024;

export interface RecallMeasurement {
  readonly check: VerificationCheck;
  /** Set when the revision answered every query, passed or not. */
  readonly recallAtK?: { readonly k: number; readonly recall: number };
}

export async function checkAnnRecall(context: CheckContext): Promise<RecallMeasurement> {
  const fail = (detail: string) => ({ check: checkResult(CHECK_NAMES.annRecall, false, detail) });
  const { bundle, k } = context;
  const { recallQueries, minRecall } = context.thresholds;
  if (bundle.examples.length === 0) {
    return fail('not run: the bundle has no example instances (see smoke_predictions)');
  }
  const instances = recallInstances(bundle, recallQueries);
  let exact: ProductId[][];
  try {
    exact = await exactTopK(bundle, instances, k);
  } catch (error) {
    if (error instanceof RecdeployError && BUNDLE_FAULTS.has(error.code)) {
      return fail(`cannot compute the exact top-${k} locally: ${error.message}`);
    }
    throw error;
  }
  const predicted = await predictInChunks(context.client, instances);
  if ('problem' in predicted) return fail(predicted.problem);

  const recalls = predicted.lists.map((list, i) => recallAtK(list.productIds, exact[i]!));
  const { mean, worst, at } = meanAndWorst(recalls);
  const recall = roundRatio(mean);
  const examples = Math.min(bundle.examples.length, instances.length);
  const measured =
    `recall@${k} ${recall} against exact search (minRecall ${minRecall}) over ` +
    `${instances.length} queries (${examples} examples + ${instances.length - examples} sampled, ` +
    `seed ${RECALL_QUERY_SEED}); lowest ${roundRatio(worst)} at query ${at}`;
  const passed = mean >= minRecall;
  return {
    check: checkResult(CHECK_NAMES.annRecall, passed, passed ? measured : `too low: ${measured}`),
    recallAtK: { k, recall },
  };
}

/** The bundle's examples, then sampled instances, `total` in all. */
export function recallInstances(
  bundle: Pick<ModelBundle, 'manifest' | 'vocabularies' | 'examples'>,
  total: number,
): Record<string, unknown>[] {
  const examples = bundle.examples.slice(0, total);
  return [...examples, ...sampleInstances(bundle, total - examples.length, RECALL_QUERY_SEED)];
}
