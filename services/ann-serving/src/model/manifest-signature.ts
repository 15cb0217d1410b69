/**
 * The `serving_default` signature of a bundle, from its manifest: one input
 * per manifest input (one scalar per instance, shape [-1]) and the two
 * outputs every recdeploy retrieval model returns, `product_ids` and
 * `scores` ([-1, -1]: batch × k, where k may change per request). Tensor
 * names follow a TF2 SavedModel export, which metadata clients may display.
 */
import type { Manifest } from '@recdeploy/shared/ann';
import {
  PREDICT_METHOD,
  sortedTensorMap,
  type DataType,
  type SignatureDef,
} from '../protocol/signature.js';

const INPUT_DTYPES: Readonly<Record<Manifest['inputs'][number]['dtype'], DataType>> = {
  string: 'DT_STRING',
  int64: 'DT_INT64',
  float32: 'DT_FLOAT',
};

export function signatureOf(manifest: Manifest): SignatureDef {
  const inputs = sortedTensorMap(
    manifest.inputs.map((input) => [
      input.name,
      {
        dtype: INPUT_DTYPES[input.dtype],
        shape: [-1],
        tensorName: `serving_default_${input.name}:0`,
      },
    ]),
  );
  const outputs = sortedTensorMap([
    [
      'product_ids',
      {
        dtype: manifest.product_id_dtype === 'string' ? 'DT_STRING' : 'DT_INT64',
        shape: [-1, -1],
        tensorName: 'StatefulPartitionedCall:0',
      },
    ],
    ['scores', { dtype: 'DT_FLOAT', shape: [-1, -1], tensorName: 'StatefulPartitionedCall:1' }],
  ]);
  return { inputs, outputs, methodName: PREDICT_METHOD };
}
