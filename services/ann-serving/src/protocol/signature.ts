/**
 * The parts of a TensorFlow SignatureDef the REST API needs: input and
 * output tensors with their dtypes and shapes, as `…/metadata` reports them
 * and as predict requests are checked against them.
 */

/** TensorFlow dtype enum names (the ones JSON can carry, plus a few that it cannot). */
export type DataType =
  | 'DT_STRING'
  | 'DT_FLOAT'
  | 'DT_DOUBLE'
  | 'DT_INT8'
  | 'DT_INT16'
  | 'DT_INT32'
  | 'DT_UINT8'
  | 'DT_INT64'
  | 'DT_UINT32'
  | 'DT_UINT64'
  | 'DT_BOOL'
  | 'DT_HALF'
  | 'DT_INVALID';

/** One tensor of a signature. */
export interface TensorSpec {
  readonly dtype: DataType;
  /** Dimension sizes, -1 where unknown (the batch dimension). */
  readonly shape: readonly number[];
  /** The graph tensor name metadata shows, e.g. `serving_default_city:0`. */
  readonly tensorName: string;
}

/** A signature: named inputs and outputs. Maps keep TF's sorted key order. */
export interface SignatureDef {
  readonly inputs: ReadonlyMap<string, TensorSpec>;
  readonly outputs: ReadonlyMap<string, TensorSpec>;
  readonly methodName: string;
}

/** The signature clients get when they name none. */
export const DEFAULT_SIGNATURE = 'serving_default';

/** A TF2 SavedModel's init op, listed in metadata but not callable. */
export const INIT_OP_SIGNATURE = '__saved_model_init_op';

/** The predict method name a servable's serving_default signature carries. */
export const PREDICT_METHOD = 'tensorflow/serving/predict';

/** Builds a name → spec map in sorted key order (protobuf maps print sorted). */
export function sortedTensorMap(entries: Iterable<[string, TensorSpec]>): Map<string, TensorSpec> {
  return new Map([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
