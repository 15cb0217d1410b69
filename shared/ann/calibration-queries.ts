import type { ModelBundle } from './bundle/bundle-reader.js';
import { createPreprocessor } from './bundle/preprocessing.js';
import { sampleInstances } from './bundle/sample-instances.js';
import type { QueryEncoder } from './encoder/query-encoder.js';

/** How many calibration queries an index build uses unless told otherwise. */
export const DEFAULT_CALIBRATION_QUERIES = 300;

/** Instances encoded per call, so a large calibration set never builds one huge tensor. */
const ENCODE_CHUNK = 256;

/**
 * The queries an index build calibrates ef on, all real query-tower
 * embeddings: the bundle's examples, then instances sampled from the
 * bundle's input space (`sampleInstances`) up to `total`, every one encoded
 * by the bundle's own query model. Used by `recdeploy build-index`, the deploy
 * step and a server that has to build at start-up, so all calibrate alike.
 */
export function calibrationQueries(
  bundle: ModelBundle,
  encoder: QueryEncoder,
  total: number = DEFAULT_CALIBRATION_QUERIES,
): Float32Array {
  const examples = bundle.examples.slice(0, total);
  const instances = [...examples, ...sampleInstances(bundle, total - examples.length)];
  const preprocessor = createPreprocessor(bundle.manifest, bundle.vocabularies);
  const queries = new Float32Array(instances.length * encoder.dim);
  for (let start = 0; start < instances.length; start += ENCODE_CHUNK) {
    const chunk = instances.slice(start, start + ENCODE_CHUNK);
    queries.set(encoder.encode(preprocessor.instances(chunk)), start * encoder.dim);
  }
  return queries;
}
