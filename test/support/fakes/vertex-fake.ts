/**
 * A local gRPC server implementing the parts of Vertex AI recdeploy calls,
 * from the protos `@google-cloud/aiplatform` ships (reference/grpc-fakes.md):
 * `google.cloud.aiplatform.v1.ModelService` (UploadModel as a long-running
 * operation, ListModels and ListModelVersions honouring `labels.k="v"`
 * filters, GetModel by version id or alias, MergeVersionAliases with the
 * alias rules of vertex-model-versions.ts), `google.longrunning.Operations/GetOperation`,
 * and `google.cloud.aiplatform.v1.PipelineService/GetPipelineJob`. It records
 * every request as it arrived on the wire and can inject failures.
 *
 * The PipelineJob builders live in vertex-pipeline-wire.ts (re-exported here).
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import {
  listenOnLoopback,
  packAny,
  serviceError,
  shutdown,
  type Callback,
} from './grpc-fake-server.js';
import {
  loadVertexServices,
  type FakeMethod,
  type InjectedFailure,
  type NameRequestWire,
} from './vertex-fake-services.js';
import {
  Refusal,
  addVersion,
  applyAliases,
  getVersion,
  listDefaultVersions,
  listVersions,
  mergeVersionAliases,
  type ListModelVersionsRequestWire,
  type ListModelsRequestWire,
  type MergeVersionAliasesRequestWire,
  type ModelWire,
  type StoredModel,
  type UploadModelRequestWire,
  type VersionFields,
} from './vertex-model-versions.js';
import type { PipelineJobWire, TimestampWire } from './vertex-pipeline-wire.js';

export * from './vertex-pipeline-wire.js';
export type {
  ListModelVersionsRequestWire,
  ListModelsRequestWire,
  MergeVersionAliasesRequestWire,
  ModelWire,
  UploadModelRequestWire,
} from './vertex-model-versions.js';

// ---------------------------------------------------------------- the server

interface PendingOperation {
  pollsLeft: number;
  readonly response: { model: string; modelVersionId: string };
}

/** The fake. Start it, point clients at `port` (fakeClientOptions), assert on the recorded requests. */
export class VertexFake {
  readonly project: string;
  readonly location: string;
  /** Every UploadModel request, in arrival order (failed ones included). */
  readonly uploads: UploadModelRequestWire[] = [];
  readonly listModelsRequests: ListModelsRequestWire[] = [];
  readonly listModelVersionsRequests: ListModelVersionsRequestWire[] = [];
  readonly mergeVersionAliasesRequests: MergeVersionAliasesRequestWire[] = [];
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
    const loaded = loadVertexServices();
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
      MergeVersionAliases: (
        call: { request: MergeVersionAliasesRequestWire },
        cb: Callback<unknown>,
      ) => this.onMergeVersionAliases(call.request, cb),
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

  /**
   * Stores a model whose versions carry the given labels; returns its resource
   * name, ending in `modelId` when given (UploadModelRequest.model_id).
   */
  seedModel(
    versions: readonly { labels: Record<string, string>; artifactUri?: string }[],
    modelId?: string,
  ): string {
    const name = `${this.parent}/models/${modelId ?? this.nextModelId++}`;
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

  /** Version ids of `modelName` by alias (`{live: '2', default: '2'}`). */
  aliasesOf(modelName: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const version of this.versionsOf(modelName)) {
      for (const alias of version.versionAliases) out[alias] = version.versionId;
    }
    return out;
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

  private addVersion(model: StoredModel, fields: VersionFields): ModelWire {
    return addVersion(model, fields, this.now());
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
    if (request.model.versionAliases.length > 0) {
      try {
        applyAliases(model, version, request.model.versionAliases);
      } catch (error) {
        if (error instanceof Refusal) return cb(serviceError(error.code, error.message));
        throw error;
      }
    }
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
    this.answer('ListModels', cb, () => ({
      models: listDefaultVersions(this.models, request),
      nextPageToken: '',
    }));
  }

  private onListModelVersions(request: ListModelVersionsRequestWire, cb: Callback<unknown>): void {
    this.listModelVersionsRequests.push(request);
    this.answer('ListModelVersions', cb, () => ({
      models: listVersions(this.models, request),
      nextPageToken: '',
    }));
  }

  private onGetModel(request: NameRequestWire, cb: Callback<unknown>): void {
    this.answer('GetModel', cb, () => getVersion(this.models, request.name));
  }

  private onMergeVersionAliases(
    request: MergeVersionAliasesRequestWire,
    cb: Callback<unknown>,
  ): void {
    this.mergeVersionAliasesRequests.push(request);
    this.answer('MergeVersionAliases', cb, () => mergeVersionAliases(this.models, request));
  }

  /**
   * Answers `method` with `work`'s result, its Refusal as the API's status,
   * or an injected failure: before the effect, or after it with `afterEffect`.
   */
  private answer(method: FakeMethod, cb: Callback<unknown>, work: () => unknown): void {
    const failure = this.takeFailure(method);
    if (failure && !failure.afterEffect) return cb(serviceError(failure.code, failure.details));
    let result: unknown;
    try {
      result = work();
    } catch (error) {
      if (error instanceof Refusal) return cb(serviceError(error.code, error.message));
      throw error;
    }
    if (failure) return cb(serviceError(failure.code, failure.details));
    cb(null, result);
  }

  private onGetPipelineJob(request: NameRequestWire, cb: Callback<unknown>): void {
    this.getPipelineJobRequests.push(request.name);
    this.answer('GetPipelineJob', cb, () => {
      const job = this.jobs.get(request.name);
      if (job) return job;
      throw new Refusal(grpc.status.NOT_FOUND, `PipelineJob ${request.name} is not found.`);
    });
  }
}
