/**
 * Model status and metadata bodies, in the JSON shape TF Serving's protobuf
 * printer produces: int64 fields (`version`, dimension `size`) as strings,
 * enum names, defaults printed, and the doubled
 * `metadata.signature_def.signature_def` map that clients read.
 */
import {
  DEFAULT_SIGNATURE,
  INIT_OP_SIGNATURE,
  type SignatureDef,
  type TensorSpec,
} from './signature.js';

/** A servable version's lifecycle state, as `ModelVersionStatus.State` names it. */
export type ServableState = 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

/** The status of one version, and the error that ended it (if it failed to load). */
export interface VersionStatus {
  readonly version: number;
  readonly state: ServableState;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/** `GET /v1/models/{name}[/versions/{v}]`. */
export function statusResponseBody(versions: readonly VersionStatus[]): string {
  return JSON.stringify({
    model_version_status: versions.map((v) => ({
      version: String(v.version),
      state: v.state,
      status: { error_code: v.errorCode ?? 'OK', error_message: v.errorMessage ?? '' },
    })),
  });
}

/** `GET /v1/models/{name}[/versions/{v}]/metadata`: the signature_def map of a TF2 SavedModel. */
export function metadataResponseBody(
  model: string,
  version: number,
  signature: SignatureDef,
): string {
  return JSON.stringify({
    model_spec: { name: model, signature_name: '', version: String(version) },
    metadata: {
      signature_def: {
        signature_def: {
          [DEFAULT_SIGNATURE]: {
            inputs: tensorMap(signature.inputs),
            outputs: tensorMap(signature.outputs),
            method_name: signature.methodName,
            defaults: {},
          },
          // Listed by every TF2 export; clients pick their signature by name.
          [INIT_OP_SIGNATURE]: {
            inputs: {},
            outputs: {
              [INIT_OP_SIGNATURE]: {
                dtype: 'DT_INVALID',
                tensor_shape: { dim: [], unknown_rank: true },
                name: 'NoOp',
              },
            },
            method_name: '',
            defaults: {},
          },
        },
      },
    },
  });
}

function tensorMap(specs: ReadonlyMap<string, TensorSpec>): Record<string, unknown> {
  return Object.fromEntries(
    [...specs].map(([name, spec]) => [
      name,
      {
        dtype: spec.dtype,
        tensor_shape: {
          dim: spec.shape.map((size) => ({ size: String(size), name: '' })),
          unknown_rank: false,
        },
        name: spec.tensorName,
      },
    ]),
  );
}
