/**
 * Exact top-k on the verifier's side: the bundle's own query tower encodes
 * the instances and brute force searches its candidate embeddings. Both
 * `ann_recall` (bundle examples and sampled instances) and `replay` (live
 * queries) compare a revision's approximate answers against it.
 */
// Module by module rather than the ann entry point, which would load hnswlib's native addon.
import type { ModelBundle } from '../ann/bundle/bundle-reader.js';
import { createPreprocessor } from '../ann/bundle/preprocessing.js';
import { loadQueryEncoder } from '../ann/encoder/query-encoder.js';
import { createExactSearcher } from '../ann/search/exact-searcher.js';
import type { ProductId } from '../ann/types.js';

/** Instances encoded per call, so the query batch never becomes one huge tensor. */
const ENCODE_CHUNK = 256;

/** Errors that mean the bundle cannot produce queries: the model's fault, so a failed check. */
export const BUNDLE_FAULTS: ReadonlySet<string> = new Set(['BUNDLE.INVALID', 'INPUT.INVALID']);

/** Exact top-k original ids per instance, with the bundle's query tower and brute force. */
export async function exactTopK(
  bundle: ModelBundle,
  instances: readonly Record<string, unknown>[],
  k: number,
): Promise<ProductId[][]> {
  const encoder = await loadQueryEncoder(bundle);
  try {
    const preprocessor = createPreprocessor(bundle.manifest, bundle.vocabularies);
    const queries = new Float32Array(instances.length * encoder.dim);
    for (let start = 0; start < instances.length; start += ENCODE_CHUNK) {
      const chunk = instances.slice(start, start + ENCODE_CHUNK);
      queries.set(encoder.encode(preprocessor.instances(chunk)), start * encoder.dim);
    }
    const searcher = await createExactSearcher(bundle.candidates);
    try {
      return searcher
        .search(queries, instances.length, k)
        .map((hit) => Array.from(hit.rows, (row) => bundle.productIds[row]!));
    } finally {
      searcher.dispose();
    }
  } finally {
    encoder.dispose();
  }
}
