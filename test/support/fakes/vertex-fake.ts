/**
 * A local gRPC server implementing the parts of Vertex AI recdeploy calls,
 * from the protos `@google-cloud/aiplatform` ships (reference/grpc-fakes.md):
 * `google.cloud.aiplatform.v1.ModelService` (UploadModel as a long-running
 * operation, ListModels and ListModelVersions honouring `labels.k="v"`
 * filters, GetModel), `google.longrunning.Operations/GetOperation`, and
 * `google.cloud.aiplatform.v1.PipelineService/GetPipelineJob`. It records
 * every request as it arrived on the wire and can inject failures.
 *
 * Also: builders for PipelineJob objects in the shape the Node client hands
 * them over (reference/vertex-pipeline-outputs.md §1), shared by the unit
 * tests of the pure resolution and by this fake.
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import {
  listenOnLoopback,
  loadGrpcPackage,
  packAny,
  protobufRoot,
  serviceDefinition,
  serviceError,
  shutdown,
  type Callback,
} from './grpc-fake-server.js';

const AIPLATFORM = '@google-cloud/aiplatform';
const MODEL_SERVICE_PROTO = 'google/cloud/aiplatform/v1/model_service.proto';
const PIPELINE_SERVICE_PROTO = 'google/cloud/aiplatform/v1/pipeline_service.proto';

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

/** A Model (one version of it) as the fake stores and returns it. */
export interface ModelWire {
  name: string;
  versionId: string;
  displayName: string;
  description: string;
  versionDescription: string;
  artifactUri: string;
  labels: Record<string, string>;
  createTime: TimestampWire;
  versionCreateTime: TimestampWire;
}

/** An UploadModel request as it arrived (proto-loader fills defaults for absent fields). */
export interface UploadModelRequestWire {
  parent: string;
  parentModel: string;
  modelId: string;
  model: {
    displayName: string;
    description: string;
    versionDescription: string;
    versionAliases: string[];
    artifactUri: string;
    labels: Record<string, string>;
    containerSpec: {
      imageUri: string;
      env: { name: string; value: string }[];
      ports: { containerPort: number }[];
      predictRoute: string;
      healthRoute: string;
    } | null;
  };
}

export interface ListModelsRequestWire {
  parent: string;
  filter: string;
}

export interface ListModelVersionsRequestWire {
  name: string;
  filter: string;
}

interface NameRequestWire {
  name: string;
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

// ---------------------------------------------------------------- the server

type FakeMethod =
  | 'UploadModel'
  | 'ListModels'
  | 'ListModelVersions'
  | 'GetModel'
  | 'GetOperation'
  | 'GetPipelineJob';

interface InjectedFailure {
  readonly code: grpc.status;
  readonly details: string;
  /** Perform the call's effect (store the upload) before answering with the error. */
  readonly afterEffect: boolean;
}

interface StoredModel {
  readonly name: string;
  readonly versions: ModelWire[];
}

interface PendingOperation {
  pollsLeft: number;
  readonly response: { model: string; modelVersionId: string };
}

interface Services {
  readonly model: grpc.ServiceDefinition;
  readonly operations: grpc.ServiceDefinition;
  readonly pipeline: grpc.ServiceDefinition;
  readonly root: protobuf.Root;
}

let services: Services | undefined;
/** Loading the Vertex protos takes a while: once per test process. */
function loadServices(): Services {
  if (services !== undefined) return services;
  const modelPackage = loadGrpcPackage(AIPLATFORM, MODEL_SERVICE_PROTO);
  const pipelinePackage = loadGrpcPackage(AIPLATFORM, PIPELINE_SERVICE_PROTO);
  services = {
    model: serviceDefinition(modelPackage, 'google.cloud.aiplatform.v1.ModelService'),
    operations: serviceDefinition(modelPackage, 'google.longrunning.Operations'),
    pipeline: serviceDefinition(pipelinePackage, 'google.cloud.aiplatform.v1.PipelineService'),
    root: protobufRoot(AIPLATFORM, [MODEL_SERVICE_PROTO]),
  };
  return services;
}

const LABEL_TERM = /^labels\.([a-z][a-z0-9_-]*)="([^"\\]*)"$/;

/** Parses `labels.k="v"` terms joined by ` AND `; anything else is refused like the API would. */
function parseLabelFilter(filter: string): Record<string, string> | undefined {
  if (filter === '') return {};
  const terms: Record<string, string> = {};
  for (const term of filter.split(' AND ')) {
    const match = LABEL_TERM.exec(term.trim());
    if (!match) return undefined;
    terms[match[1] as string] = match[2] as string;
  }
  return terms;
}

function matches(labels: Record<string, string>, terms: Record<string, string>): boolean {
  return Object.entries(terms).every(([key, value]) => labels[key] === value);
}

/** The fake. Start it, point clients at `port` (fakeClientOptions), assert on the recorded requests. */
export class VertexFake {
  readonly project: string;
  readonly location: string;
  /** Every UploadModel request, in arrival order (failed ones included). */
  readonly uploads: UploadModelRequestWire[] = [];
  readonly listModelsRequests: ListModelsRequestWire[] = [];
  readonly listModelVersionsRequests: ListModelVersionsRequestWire[] = [];
  readonly getPipelineJobRequests: string[] = [];
  /** RPCs received per method. */
  readonly calls: Partial<Record<FakeMethod, number>> = {};
  /** How many times GetOperation answers `done: false` before `done: true` (UploadModel itself always does). */
  operationPollsBeforeDone = 0;
  port = 0;

  private readonly server = new grpc.Server();
  private readonly root: protobuf.Root;
  private readonly models: StoredModel[] = [];
  private readonly operations = new Map<string, PendingOperation>();
  private readonly jobs = new Map<string, PipelineJobWire>();
  private readonly failures = new Map<FakeMethod, InjectedFailure[]>();
  private nextModelId = 5_000_000_000_000_000_001n;
  private nextOperation = 1;
  /** Seconds of the next creation time: strictly increasing, so "oldest" is well defined. */
  private clock = 1_767_225_600;

  constructor(options: { project?: string; location?: string } = {}) {
    this.project = options.project ?? 'test-project';
    this.location = options.location ?? 'us-central1';
    const loaded = loadServices();
    this.root = loaded.root;
    this.server.addService(loaded.model, {
      UploadModel: (call: { request: UploadModelRequestWire }, cb: Callback<unknown>) =>
        this.onUploadModel(call.request, cb),
      ListModels: (call: { request: ListModelsRequestWire }, cb: Callback<unknown>) =>
        this.onListModels(call.request, cb),
      ListModelVersions: (call: { request: ListModelVersionsRequestWire }, cb: Callback<unknown>) =>
        this.onListModelVersions(call.request, cb),
      GetModel: (call: { request: NameRequestWire }, cb: Callback<unknown>) =>
        this.onGetModel(call.request, cb),
    });
    this.server.addService(loaded.operations, {
      GetOperation: (call: { request: NameRequestWire }, cb: Callback<unknown>) =>
        this.onGetOperation(call.request, cb),
    });
    this.server.addService(loaded.pipeline, {
      GetPipelineJob: (call: { request: NameRequestWire }, cb: Callback<unknown>) =>
        this.onGetPipelineJob(call.request, cb),
    });
  }

  get parent(): string {
    return `projects/${this.project}/locations/${this.location}`;
  }

  async start(): Promise<number> {
    this.port = await listenOnLoopback(this.server);
    return this.port;
  }

  async stop(): Promise<void> {
    await shutdown(this.server);
  }

  /**
   * Answers the next `method` call with `code`. With `afterEffect`, an
   * UploadModel first stores the version (the call happened; only its answer
   * was lost), which is what an ambiguous DEADLINE_EXCEEDED can mean.
   */
  failNext(
    method: FakeMethod,
    code: grpc.status,
    options: { details?: string; afterEffect?: boolean } = {},
  ): void {
    const queue = this.failures.get(method) ?? [];
    queue.push({
      code,
      details: options.details ?? 'injected by the fake',
      afterEffect: options.afterEffect ?? false,
    });
    this.failures.set(method, queue);
  }

  /** Stores a model whose versions carry the given labels; returns its resource name. */
  seedModel(versions: readonly { labels: Record<string, string>; artifactUri?: string }[]): string {
    const name = `${this.parent}/models/${this.nextModelId++}`;
    const model: StoredModel = { name, versions: [] };
    this.models.push(model);
    for (const version of versions) {
      this.addVersion(model, {
        displayName: 'seeded',
        description: '',
        versionDescription: 'seeded',
        artifactUri: version.artifactUri ?? 'gs://bucket/seeded',
        labels: { ...version.labels },
      });
    }
    return name;
  }

  /** The stored versions of a model, oldest first. */
  versionsOf(modelName: string): readonly ModelWire[] {
    return this.models.find((m) => m.name === modelName)?.versions ?? [];
  }

  /** Names of every stored model, in creation order. */
  modelNames(): string[] {
    return this.models.map((m) => m.name);
  }

  /** Makes GetPipelineJob return `job` for its name. */
  addPipelineJob(job: PipelineJobWire): void {
    this.jobs.set(job.name, job);
  }

  private takeFailure(method: FakeMethod): InjectedFailure | undefined {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    return this.failures.get(method)?.shift();
  }

  private now(): TimestampWire {
    return { seconds: String(this.clock++), nanos: 0 };
  }

  private addVersion(
    model: StoredModel,
    fields: Pick<
      ModelWire,
      'displayName' | 'description' | 'versionDescription' | 'artifactUri' | 'labels'
    >,
  ): ModelWire {
    const created = this.now();
    const version: ModelWire = {
      ...fields,
      name: model.name,
      versionId: String(model.versions.length + 1),
      createTime: model.versions[0]?.createTime ?? created,
      versionCreateTime: created,
    };
    model.versions.push(version);
    return version;
  }

  private onUploadModel(request: UploadModelRequestWire, cb: Callback<unknown>): void {
    this.uploads.push(request);
    const failure = this.takeFailure('UploadModel');
    if (failure && !failure.afterEffect) return cb(serviceError(failure.code, failure.details));
    if (request.parent !== this.parent) {
      return cb(serviceError(grpc.status.INVALID_ARGUMENT, `unknown parent ${request.parent}`));
    }
    let model: StoredModel | undefined;
    if (request.parentModel !== '') {
      model = this.models.find((m) => m.name === request.parentModel);
      if (!model) {
        return cb(serviceError(grpc.status.NOT_FOUND, `Model ${request.parentModel} not found.`));
      }
    } else {
      model = { name: `${this.parent}/models/${this.nextModelId++}`, versions: [] };
      this.models.push(model);
    }
    const version = this.addVersion(model, {
      displayName: request.model.displayName,
      description: request.model.description,
      versionDescription: request.model.versionDescription,
      artifactUri: request.model.artifactUri,
      labels: { ...request.model.labels },
    });
    if (failure) return cb(serviceError(failure.code, failure.details));
    const name = `${this.parent}/operations/${this.nextOperation++}`;
    this.operations.set(name, {
      pollsLeft: this.operationPollsBeforeDone,
      response: { model: model.name, modelVersionId: version.versionId },
    });
    // Real uploads are never done at once: the client must poll GetOperation.
    cb(null, { name, done: false });
  }

  private onGetOperation(request: NameRequestWire, cb: Callback<unknown>): void {
    const failure = this.takeFailure('GetOperation');
    if (failure) return cb(serviceError(failure.code, failure.details));
    const operation = this.operations.get(request.name);
    if (!operation) {
      return cb(serviceError(grpc.status.NOT_FOUND, `Operation ${request.name} not found.`));
    }
    if (operation.pollsLeft > 0) {
      operation.pollsLeft--;
      return cb(null, { name: request.name, done: false });
    }
    cb(null, {
      name: request.name,
      done: true,
      metadata: packAny(this.root, 'google.cloud.aiplatform.v1.UploadModelOperationMetadata', {
        genericMetadata: {},
      }),
      response: packAny(
        this.root,
        'google.cloud.aiplatform.v1.UploadModelResponse',
        operation.response,
      ),
    });
  }

  private onListModels(request: ListModelsRequestWire, cb: Callback<unknown>): void {
    this.listModelsRequests.push(request);
    const failure = this.takeFailure('ListModels');
    if (failure) return cb(serviceError(failure.code, failure.details));
    const terms = parseLabelFilter(request.filter);
    if (terms === undefined) {
      return cb(serviceError(grpc.status.INVALID_ARGUMENT, `unsupported filter ${request.filter}`));
    }
    // A model is listed as its default version: the first one, as no aliases are moved here.
    // Newest first: the API promises no order, so callers that need the oldest must sort.
    const models = [...this.models]
      .reverse()
      .filter((m) => m.name.startsWith(`${request.parent}/models/`))
      .flatMap((m) => (m.versions[0] ? [m.versions[0]] : []))
      .filter((v) => matches(v.labels, terms));
    cb(null, { models, nextPageToken: '' });
  }

  private onListModelVersions(request: ListModelVersionsRequestWire, cb: Callback<unknown>): void {
    this.listModelVersionsRequests.push(request);
    const failure = this.takeFailure('ListModelVersions');
    if (failure) return cb(serviceError(failure.code, failure.details));
    const model = this.models.find((m) => m.name === request.name);
    if (!model) return cb(serviceError(grpc.status.NOT_FOUND, `Model ${request.name} not found.`));
    const terms = parseLabelFilter(request.filter);
    if (terms === undefined) {
      return cb(serviceError(grpc.status.INVALID_ARGUMENT, `unsupported filter ${request.filter}`));
    }
    cb(null, { models: model.versions.filter((v) => matches(v.labels, terms)), nextPageToken: '' });
  }

  private onGetModel(request: NameRequestWire, cb: Callback<unknown>): void {
    const failure = this.takeFailure('GetModel');
    if (failure) return cb(serviceError(failure.code, failure.details));
    const [name, versionId] = request.name.split('@');
    const model = this.models.find((m) => m.name === name);
    const version =
      versionId === undefined
        ? model?.versions[0]
        : model?.versions.find((v) => v.versionId === versionId);
    if (!version)
      return cb(serviceError(grpc.status.NOT_FOUND, `Model ${request.name} not found.`));
    cb(null, version);
  }

  private onGetPipelineJob(request: NameRequestWire, cb: Callback<unknown>): void {
    this.getPipelineJobRequests.push(request.name);
    const failure = this.takeFailure('GetPipelineJob');
    if (failure) return cb(serviceError(failure.code, failure.details));
    const job = this.jobs.get(request.name);
    if (!job) {
      return cb(serviceError(grpc.status.NOT_FOUND, `PipelineJob ${request.name} is not found.`));
    }
    cb(null, job);
  }
}
