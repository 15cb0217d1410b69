/**
 * `smoke_predictions`: the bundle's example instances, predicted at the
 * revision, each return exactly k results with original product ids (not
 * row or vocabulary indices) and finite, non-increasing scores.
 */
import type { ModelBundle } from '../../ann/bundle/bundle-reader.js';
import type { ManifestInput } from '../../ann/bundle/manifest.js';
import type { VerificationCheck } from '../../domain/run-document.js';
import { CHECK_NAMES } from '../check-names.js';
import { checkResult, type CheckContext } from '../check-context.js';
import type { RankedList } from '../predict-response.js';
import { predictInChunks } from '../predict-in-chunks.js';
import { classifyIds, describeIdVerdict, type ProductIdCatalogue } from '../product-id-check.js';
import { scoreOrderProblem } from '../score-order.js';

/** Problems listed in a failing detail; the count says how many more there were. */
const LISTED_PROBLEMS = 3;

export async function checkSmokePredictions(context: CheckContext): Promise<VerificationCheck> {
  const fail = (detail: string) => checkResult(CHECK_NAMES.smokePredictions, false, detail);
  const { examples } = context.bundle;
  if (examples.length === 0) return fail(noExamplesDetail(context.bundle));
  const predicted = await predictInChunks(context.client, examples);
  if ('problem' in predicted) return fail(predicted.problem);

  const perInstance = predicted.lists.map((list, i) =>
    rankedListProblems(list, context.k, context.catalogue).map((p) => `instance ${i}: ${p}`),
  );
  const failing = perInstance.filter((problems) => problems.length > 0).length;
  const problems = perInstance.flat();
  if (failing > 0) {
    const shown = problems.slice(0, LISTED_PROBLEMS).join('; ');
    const more =
      problems.length > LISTED_PROBLEMS ? ` (+${problems.length - LISTED_PROBLEMS} more)` : '';
    return fail(`${failing} of ${examples.length} example instances fail: ${shown}${more}`);
  }
  const tops = predicted.lists.map((list) => list.scores[0] as number);
  const [low, high] = [Math.min(...tops), Math.max(...tops)];
  return checkResult(
    CHECK_NAMES.smokePredictions,
    true,
    `${examples.length} example instances: ${context.k} results each, ids from product_ids.json, ` +
      `finite non-increasing scores (${low === high ? `top score ${low}` : `top scores ${low} to ${high}`})`,
  );
}

/** Everything wrong with one instance's ranked list (empty when it is right). */
export function rankedListProblems(
  list: RankedList,
  k: number,
  catalogue: ProductIdCatalogue,
): string[] {
  const problems: string[] = [];
  if (list.productIds.length !== k) {
    problems.push(`expected ${k} product_ids, got ${list.productIds.length}`);
  }
  if (list.scores.length !== k) problems.push(`expected ${k} scores, got ${list.scores.length}`);
  const verdict = classifyIds(list.productIds, catalogue);
  if (verdict.kind !== 'original') problems.push(describeIdVerdict(verdict, catalogue));
  const order = scoreOrderProblem(list.scores);
  if (order) problems.push(order);
  return problems;
}

function noExamplesDetail(bundle: Pick<ModelBundle, 'manifest'>): string {
  return `the bundle has no example instances, so nothing can be predicted: ${examplesHowTo(bundle.manifest.inputs)}`;
}

/** How to give a bundle the example instances verification predicts (inputs: the manifest's, when known). */
export function examplesHowTo(inputs?: readonly Pick<ManifestInput, 'name' | 'dtype'>[]): string {
  const fields = inputs
    ? `the inputs ${inputs.map((input) => `${input.name} (${input.dtype})`).join(', ')}`
    : "the manifest's inputs";
  return (
    'add ann/examples.json next to manifest.json, a JSON array of a few instances exactly as a ' +
    `client sends them, each an object with ${fields}`
  );
}
