/**
 * Where trained models are registered (Vertex AI Model Registry in the cloud,
 * rows in the local store on one machine). One model per model endpoint; each
 * training run is one version of it. The version whose revision serves all
 * traffic carries the `live` alias (and `default`, see markServing).
 */
import type { RegistryRef } from '../domain/run-document.js';

/** The version alias on the version that serves (`models/{m}@live` resolves to it). */
export const LIVE_ALIAS = 'live';

/** How the registry should describe the serving container (descriptive on Vertex: we serve from Cloud Run). */
export interface RegistryContainerSpec {
  readonly imageUri: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly port: number;
  readonly predictRoute: string;
  readonly healthRoute: string;
}

export interface RegisterModelRequest {
  /** The run id (`{modelEndpointId}-{trainingRunId}`), for logs and errors. */
  readonly runId: string;
  readonly modelEndpointId: string;
  readonly trainingRunId: string;
  /** Display name of the model (the model slug). */
  readonly displayName: string;
  readonly description?: string;
  /** The pushed model directory (gs:// or file://). */
  readonly artifactUri: string;
  /**
   * Labels, already sanitised to the registry's rules (see registry-labels.ts).
   * Must contain `training_run_id` and `model_endpoint_id`: the registry finds
   * the endpoint's model and an earlier upload of the same run by them.
   */
  readonly labels: Readonly<Record<string, string>>;
  readonly container: RegistryContainerSpec;
}

export interface RegisteredModel {
  /** The model's resource name (`projects/{p}/locations/{l}/models/{id}` on Vertex). */
  readonly model: string;
  /** The version id within the model ("1", "2", …). */
  readonly version: string;
  /** True when a version carrying this run's label already existed and was reused. */
  readonly reused: boolean;
  /** True when this upload created the model (its first version). */
  readonly newModel: boolean;
}

export interface ModelRegistry {
  /**
   * Registers the run's model: as a new version of the endpoint's model when
   * one exists (found by its `model_endpoint_id` label), else as a new model.
   * Idempotent: a version already carrying the run's `training_run_id` label
   * is returned instead of uploading again (the upload call has no request id).
   * @throws TransientError on passing failures (unavailable, deadline);
   *   PermanentError on requests the registry refuses.
   */
  registerModel(request: RegisterModelRequest): Promise<RegisteredModel>;
  /**
   * Moves the `live` alias, and `default` with it, onto `ref`'s version: its
   * run's revision now serves all traffic (a promote, a completed canary, a
   * rollback). An alias sits on one version of a model at a time, so both
   * leave the version that held them. `default` follows `live` because a
   * model read without a version resolves to `default`; until a model's
   * first promote, `default` stays on its first version (where the registry
   * puts it at upload), served or not. Idempotent: a version that already
   * holds both is left alone.
   * @throws TransientError on passing failures; PermanentError
   *   `REGISTRY.REJECTED` when the registry refuses (an unknown version).
   */
  markServing(ref: RegistryRef): Promise<void>;
  close(): Promise<void>;
}
