/**
 * Vertex AI PipelineJob objects in the shape the Node client hands them over
 * (reference/vertex-pipeline-outputs.md §1): the wire shapes and builders
 * shared by the unit tests of the pure resolution and by the Vertex fake
 * (vertex-fake.ts serves them from GetPipelineJob).
 */

// ---------------------------------------------------------------- wire shapes

/** `google.protobuf.Timestamp` as proto-loader and gax spell it (int64 as a string). */
export interface TimestampWire {
  seconds: string;
  nanos: number;
}

/** `google.protobuf.Value`, with the `kind` oneof name the Node client adds. */
export interface ValueWire {
  kind?: string;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructWire;
}

/** `google.protobuf.Struct`. */
export interface StructWire {
  fields: Record<string, ValueWire>;
}

/** The deprecated `aiplatform.v1.Value` of `runtimeConfig.parameters` (oneof named `value`). */
export interface DeprecatedParameterWire {
  value: string;
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
}

export interface ArtifactWire {
  schemaTitle: string;
  uri: string;
  metadata: StructWire;
}

export interface TaskWire {
  taskId: string;
  taskName: string;
  state: string;
  outputs: Record<string, { artifacts: ArtifactWire[] }>;
}

export interface PipelineJobWire {
  name: string;
  displayName: string;
  state: string;
  createTime: TimestampWire;
  endTime: TimestampWire | null;
  error: { code: number; message: string } | null;
  labels: Record<string, string>;
  pipelineSpec: StructWire;
  runtimeConfig: {
    gcsOutputDirectory: string;
    parameters: Record<string, DeprecatedParameterWire>;
    parameterValues: Record<string, ValueWire>;
  };
  jobDetail: { taskDetails: TaskWire[] };
}

// ---------------------------------------------------------------- builders

type StructInput = number | string | boolean | { readonly [key: string]: StructInput };

/** A protobuf Value in the client's shape (`kind` names the set member). */
export function valueOf(input: StructInput): ValueWire {
  if (typeof input === 'number') return { numberValue: input, kind: 'numberValue' };
  if (typeof input === 'string') return { stringValue: input, kind: 'stringValue' };
  if (typeof input === 'boolean') return { boolValue: input, kind: 'boolValue' };
  return { structValue: structOf(input), kind: 'structValue' };
}

/** A protobuf Struct in the client's shape. */
export function structOf(values: { readonly [key: string]: StructInput }): StructWire {
  return {
    fields: Object.fromEntries(Object.entries(values).map(([key, v]) => [key, valueOf(v)])),
  };
}

/** The deprecated typed parameter form (TFX default, schema ≤ 2.0.0): integers as int64 strings. */
export function deprecatedParameter(value: string | number): DeprecatedParameterWire {
  if (typeof value === 'string') return { stringValue: value, value: 'stringValue' };
  return Number.isInteger(value)
    ? { intValue: String(value), value: 'intValue' }
    : { doubleValue: value, value: 'doubleValue' };
}

export function timestampOf(iso: string): TimestampWire {
  const millis = Date.parse(iso);
  return { seconds: String(Math.floor(millis / 1000)), nanos: (millis % 1000) * 1_000_000 };
}

export interface PusherTaskOptions {
  readonly taskName?: string;
  readonly state?: string;
  /** `metadata.pushed`; TFX sets 1 or 0 (a number). */
  readonly pushed?: number;
  readonly destination?: string;
  readonly version?: string;
}

/**
 * A TFX Pusher task. Pushed (1): `pushed_destination` and `pushed_version`
 * set, like the Pusher executor; not pushed: only `pushed` = 0; NOT_TRIGGERED:
 * no artifacts at all (the task never ran).
 */
export function pusherTask(options: PusherTaskOptions = {}): TaskWire {
  const taskName = options.taskName ?? 'Pusher';
  const state = options.state ?? 'SUCCEEDED';
  const pushed = options.pushed ?? 1;
  const version = options.version ?? '1768842986';
  const destination = options.destination ?? `gs://bucket/serving/pushed_model/${version}`;
  const metadata: Record<string, StructInput> = { pushed, tfx_version: '1.16.0' };
  if (pushed === 1)
    Object.assign(metadata, { pushed_destination: destination, pushed_version: version });
  const outputs: TaskWire['outputs'] =
    state === 'NOT_TRIGGERED'
      ? {}
      : {
          pushed_model: {
            artifacts: [
              {
                schemaTitle: 'tfx.PushedModel',
                uri: `gs://bucket/root/123456789/job/${taskName}_uuid/pushed_model`,
                metadata: structOf(metadata),
              },
            ],
          },
        };
  return { taskId: '317', taskName, state, outputs };
}

export interface EvaluatorTaskOptions {
  readonly taskName?: string;
  /** `metadata.blessed`; undefined leaves it out (an Evaluator without thresholds). */
  readonly blessed?: number;
  /** Further metadata (numbers become metrics, strings are ignored). */
  readonly metadata?: Readonly<Record<string, number | string>>;
}

/** A TFX Evaluator task with its `blessing` (tfx.ModelBlessing) and `evaluation` outputs. */
export function evaluatorTask(options: EvaluatorTaskOptions = {}): TaskWire {
  const metadata: Record<string, StructInput> = {
    current_model: 'gs://bucket/root/123456789/job/Trainer_uuid/model',
    tfx_version: '1.16.0',
    ...options.metadata,
  };
  if (options.blessed !== undefined) metadata.blessed = options.blessed;
  return {
    taskId: '311',
    taskName: options.taskName ?? 'Evaluator',
    state: 'SUCCEEDED',
    outputs: {
      blessing: {
        artifacts: [
          {
            schemaTitle: 'tfx.ModelBlessing',
            uri: 'gs://bucket/root/123456789/job/Evaluator_uuid/blessing',
            metadata: structOf(metadata),
          },
        ],
      },
      evaluation: {
        artifacts: [
          {
            schemaTitle: 'tfx.ModelEvaluation',
            uri: 'gs://bucket/root/123456789/job/Evaluator_uuid/evaluation',
            metadata: structOf({ tfx_version: '1.16.0' }),
          },
        ],
      },
    },
  };
}

export const DEFAULT_JOB_NAME =
  'projects/test-project/locations/europe-west1/pipelineJobs/recs-two-tower-20260119120000';

export interface PipelineJobOptions {
  readonly name?: string;
  readonly displayName?: string;
  /** `pipelineSpec.pipelineInfo.name`; undefined leaves pipelineInfo out. */
  readonly pipelineName?: string;
  readonly state?: string;
  readonly endTime?: string | null;
  readonly error?: { code: number; message: string } | null;
  readonly labels?: Record<string, string>;
  /** Deprecated typed parameters (`runtimeConfig.parameters`). */
  readonly parameters?: Record<string, string | number>;
  /** Schema 2.1.0 parameters (`runtimeConfig.parameterValues`). */
  readonly parameterValues?: Record<string, string | number>;
  readonly tasks?: TaskWire[];
}

/**
 * A finished TFX pipeline job (reference/vertex-pipeline-outputs.md §5): by
 * default SUCCEEDED, blessed by the Evaluator, pushed by the Pusher, with
 * `model_endpoint_id` as a deprecated-form parameter.
 */
export function pipelineJob(options: PipelineJobOptions = {}): PipelineJobWire {
  const pipelineName = 'pipelineName' in options ? options.pipelineName : 'recs-two-tower';
  const endTime = options.endTime === undefined ? '2026-01-19T16:49:46Z' : options.endTime;
  const parameters = options.parameters ?? { model_endpoint_id: 'ep-1', epochs: 3 };
  const parameterValues = options.parameterValues ?? {};
  return {
    name: options.name ?? DEFAULT_JOB_NAME,
    displayName: options.displayName ?? 'recs-two-tower',
    state: options.state ?? 'PIPELINE_STATE_SUCCEEDED',
    createTime: timestampOf('2026-01-19T12:00:00Z'),
    endTime: endTime === null ? null : timestampOf(endTime),
    error: options.error ?? null,
    labels: options.labels ?? { 'vertex-ai-pipelines-run-billing-id': '8812345' },
    pipelineSpec: structOf({
      ...(pipelineName !== undefined && { pipelineInfo: { name: pipelineName } }),
      schemaVersion: '2.0.0',
      sdkVersion: 'tfx-1.16.0',
    }),
    runtimeConfig: {
      gcsOutputDirectory: 'gs://bucket/root',
      parameters: Object.fromEntries(
        Object.entries(parameters).map(([key, v]) => [key, deprecatedParameter(v)]),
      ),
      parameterValues: Object.fromEntries(
        Object.entries(parameterValues).map(([key, v]) => [key, valueOf(v)]),
      ),
    },
    jobDetail: { taskDetails: options.tasks ?? [evaluatorTask({ blessed: 1 }), pusherTask()] },
  };
}
