/**
 * The fields of a Vertex AI PipelineJob that pipeline-job-outputs.ts reads,
 * in the shapes the Node gRPC client hands them over (narrow on purpose).
 */

/** int64 as the client hands it: a string (gax loads protos with `longs: String`), or a Long. */
export type Int64Like = string | number | { toString(): string };

/** `google.protobuf.Value`. `kind` names the member that is set (0 and '' are real values). */
export interface ProtoValue {
  readonly kind?: string | null;
  readonly numberValue?: number | null;
  readonly stringValue?: string | null;
  readonly boolValue?: boolean | null;
  readonly structValue?: ProtoStruct | null;
}

export interface ProtoStruct {
  readonly fields?: Readonly<Record<string, ProtoValue>> | null;
}

/** The deprecated `aiplatform.v1.Value` of `runtimeConfig.parameters`; its oneof is named `value`. */
export interface DeprecatedParameterValue {
  readonly value?: string | null;
  readonly stringValue?: string | null;
  readonly intValue?: Int64Like | null;
  readonly doubleValue?: number | null;
}

export interface ProtoTimestamp {
  readonly seconds?: Int64Like | null;
  readonly nanos?: number | null;
}

export interface PipelineArtifactInput {
  readonly schemaTitle?: string | null;
  readonly metadata?: ProtoStruct | null;
}

export interface PipelineTaskInput {
  readonly taskName?: string | null;
  /** `PipelineTaskDetail.State`: 'SUCCEEDED', 'SKIPPED' (cache hit), 'NOT_TRIGGERED'… */
  readonly state?: string | number | null;
  readonly outputs?: Readonly<
    Record<string, { readonly artifacts?: readonly PipelineArtifactInput[] | null }>
  > | null;
}

export interface PipelineJobInput {
  readonly name?: string | null;
  readonly displayName?: string | null;
  /** `PipelineState`: 'PIPELINE_STATE_SUCCEEDED'… (or its number). */
  readonly state?: string | number | null;
  readonly endTime?: ProtoTimestamp | null;
  readonly error?: { readonly message?: string | null } | null;
  readonly labels?: Readonly<Record<string, string>> | null;
  readonly pipelineSpec?: ProtoStruct | null;
  readonly runtimeConfig?: {
    readonly parameters?: Readonly<Record<string, DeprecatedParameterValue>> | null;
    readonly parameterValues?: Readonly<Record<string, ProtoValue>> | null;
  } | null;
  readonly jobDetail?: { readonly taskDetails?: readonly PipelineTaskInput[] | null } | null;
}
