/**
 * ModelRegistry over the Vertex AI Model Registry (ModelService, regional
 * endpoint). One model per model endpoint, found by its `model_endpoint_id`
 * label; one version per training run, found by its `training_run_id` label.
 *
 * UploadModel has no request id, so idempotency comes from looking first: the
 * run's version is searched for across every model of the endpoint before
 * each upload, and again after an upload that failed ambiguously (the upload
 * may have happened). The run store's step claim keeps two attempts of one
 * run from registering at the same time, so one run never gets two versions.
 * Two *different* first runs of an endpoint racing can each create a model;
 * that is tolerated: later runs join the oldest model, and lookups search them all.
 */
import type { ModelServiceClient, protos } from '@google-cloud/aiplatform';
import type { RegistryRef } from '../../domain/run-document.js';
import { PermanentError, TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import { labelFilter } from '../../domain/registry-labels.js';
import type {
  ModelRegistry,
  RegisterModelRequest,
  RegisteredModel,
} from '../../ports/model-registry.port.js';
import { isAmbiguous, toApiError } from './google-api-errors.js';
import { markServingVersion } from './vertex-serving-alias.js';
import { vertexClientOptions, type VertexClientOptions } from './vertex-pipeline-jobs.js';

type ModelResource = protos.google.cloud.aiplatform.v1.IModel;
type UploadModelRequest = protos.google.cloud.aiplatform.v1.IUploadModelRequest;

export interface VertexModelRegistryOptions {
  readonly projectId: string;
  readonly region: string;
  readonly logger: Logger;
  /** Passed to the ModelServiceClient; the regional endpoint is the default `apiEndpoint`. */
  readonly clientOptions?: VertexClientOptions;
}

const REJECTED = 'REGISTRY.REJECTED' as const;

/** A version of the endpoint's models that carries the run's label. */
interface FoundVersion {
  readonly model: string;
  readonly version: string;
  readonly artifactUri: string;
}

export class VertexModelRegistry implements ModelRegistry {
  private client: Promise<ModelServiceClient> | undefined;

  constructor(private readonly options: VertexModelRegistryOptions) {}

  private get parent(): string {
    return `projects/${this.options.projectId}/locations/${this.options.region}`;
  }

  async registerModel(request: RegisterModelRequest): Promise<RegisteredModel> {
    const endpointLabel = requiredLabel(request, 'model_endpoint_id');
    const runLabel = requiredLabel(request, 'training_run_id');
    const log = this.options.logger.child({ runId: request.runId });
    const client = await this.modelService();

    const models = await this.endpointModels(client, endpointLabel, log);
    const existing = await this.findRunVersion(client, models, runLabel, request);
    if (existing) {
      log.info('reusing the registered version of this training run', { ...existing });
      return { model: existing.model, version: existing.version, reused: true, newModel: false };
    }

    const parentModel = models[0];
    const upload = uploadRequest(this.parent, parentModel, request);
    let operationStarted = false;
    try {
      const [operation] = await client.uploadModel(upload);
      operationStarted = true;
      const [response] = await operation.promise();
      if (!response.model || !response.modelVersionId) {
        // The next attempt finds the version by its label, if it exists.
        throw new TransientError(
          'DEPENDENCY.UNAVAILABLE',
          `Vertex AI uploadModel for run ${request.runId} finished without a model or version id`,
        );
      }
      const registered = {
        model: response.model,
        version: response.modelVersionId,
        reused: false,
        newModel: parentModel === undefined,
      };
      log.info('registered a model version', { ...registered });
      return registered;
    } catch (error) {
      // Once the operation exists the upload is under way, whatever polling it then says.
      if (!isAmbiguous(error) && !operationStarted) {
        throw toApiError(error, { call: 'Vertex AI uploadModel', rejected: REJECTED });
      }
      return this.afterAmbiguousUpload(client, request, models, error, log);
    }
  }

  /** MergeVersionAliases `live` and `default` onto the version (vertex-serving-alias.ts). */
  async markServing(ref: RegistryRef): Promise<void> {
    await markServingVersion(await this.modelService(), ref, this.options.logger);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await (await client).close();
  }

  /**
   * The upload may have happened (an ambiguous status, or a failure after the
   * operation had started): look for the run's version again, in any model of
   * the endpoint, a new one included, before reporting the failure.
   */
  private async afterAmbiguousUpload(
    client: ModelServiceClient,
    request: RegisterModelRequest,
    modelsBefore: readonly string[],
    uploadError: unknown,
    log: Logger,
  ): Promise<RegisteredModel> {
    const failure = toApiError(uploadError, { call: 'Vertex AI uploadModel', rejected: REJECTED });
    let found: FoundVersion | undefined;
    try {
      const models = await this.endpointModels(client, request.labels.model_endpoint_id ?? '', log);
      found = await this.findRunVersion(
        client,
        models,
        request.labels.training_run_id ?? '',
        request,
      );
    } catch (lookupError) {
      log.warn('could not check whether the ambiguous upload happened', {
        error: lookupError instanceof Error ? lookupError.message : String(lookupError),
      });
      throw failure;
    }
    if (!found) throw failure;
    log.warn('uploadModel failed ambiguously but the version exists; using it', {
      ...found,
      error: failure.message,
    });
    return {
      model: found.model,
      version: found.version,
      reused: true,
      newModel: !modelsBefore.includes(found.model),
    };
  }

  /** The endpoint's models, oldest first (more than one only after racing first uploads). */
  private async endpointModels(
    client: ModelServiceClient,
    endpointLabel: string,
    log: Logger,
  ): Promise<string[]> {
    const filter = labelFilter('model_endpoint_id', endpointLabel);
    let models: ModelResource[];
    try {
      [models] = await client.listModels({ parent: this.parent, filter });
    } catch (error) {
      throw toApiError(error, { call: 'Vertex AI listModels', rejected: REJECTED });
    }
    const sorted = models
      .filter(
        (m): m is ModelResource & { name: string } => typeof m.name === 'string' && m.name !== '',
      )
      .sort((a, b) => secondsOf(a.createTime) - secondsOf(b.createTime));
    if (sorted.length > 1) {
      log.warn('several models carry this endpoint label; new versions go to the oldest', {
        filter,
        models: sorted.map((m) => m.name),
      });
    }
    return sorted.map((m) => m.name);
  }

  private async findRunVersion(
    client: ModelServiceClient,
    models: readonly string[],
    runLabel: string,
    request: RegisterModelRequest,
  ): Promise<FoundVersion | undefined> {
    const filter = labelFilter('training_run_id', runLabel);
    for (const model of models) {
      let versions: ModelResource[];
      try {
        [versions] = await client.listModelVersions({ name: model, filter });
      } catch (error) {
        throw toApiError(error, { call: 'Vertex AI listModelVersions', rejected: REJECTED });
      }
      const version = versions.find((v) => typeof v.versionId === 'string' && v.versionId !== '');
      if (version) {
        const found = {
          model,
          version: version.versionId ?? '',
          artifactUri: version.artifactUri ?? '',
        };
        checkSameArtifact(found, request, runLabel);
        return found;
      }
    }
    return undefined;
  }

  private modelService(): Promise<ModelServiceClient> {
    this.client ??= this.createClient();
    return this.client;
  }

  private async createClient(): Promise<ModelServiceClient> {
    const { ModelServiceClient } = await import('@google-cloud/aiplatform');
    return new ModelServiceClient(
      vertexClientOptions(this.options.region, this.options.clientOptions),
    );
  }
}

/** The UploadModel request: a new model, or a new version of `parentModel`. */
function uploadRequest(
  parent: string,
  parentModel: string | undefined,
  request: RegisterModelRequest,
): UploadModelRequest {
  const { container } = request;
  // Sorted, so the same run always sends the same request.
  const env = Object.entries(container.env ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
  return {
    parent,
    ...(parentModel !== undefined && { parentModel }),
    model: {
      displayName: request.displayName,
      ...(request.description !== undefined && { description: request.description }),
      artifactUri: request.artifactUri,
      labels: { ...request.labels },
      containerSpec: {
        imageUri: container.imageUri,
        env,
        ports: [{ containerPort: container.port }],
        predictRoute: container.predictRoute,
        healthRoute: container.healthRoute,
      },
      versionDescription: `training run ${request.trainingRunId}`,
    },
  };
}

function requiredLabel(request: RegisterModelRequest, key: string): string {
  const value = request.labels[key];
  if (value === undefined || value === '') {
    throw new PermanentError(
      REJECTED,
      `register request for run ${request.runId} has no ${key} label; the registry finds ` +
        'models and earlier uploads by it (build labels with registryLabels)',
      { metadata: { runId: request.runId } },
    );
  }
  return value;
}

/**
 * Label values are sanitised (lowercased, other characters → `_`), so two
 * distinct run ids can share one: a found version must also hold this run's
 * artifact, or it belongs to another run and must not be reused.
 */
function checkSameArtifact(
  found: FoundVersion,
  request: RegisterModelRequest,
  runLabel: string,
): void {
  if (found.artifactUri === request.artifactUri) return;
  throw new PermanentError(
    REJECTED,
    `version ${found.version} of ${found.model} already carries training_run_id label ` +
      `"${runLabel}" but holds ${found.artifactUri || 'no artifact'}, not ${request.artifactUri}: ` +
      `another run whose id sanitises to the same label, or run ${request.runId} republished ` +
      'with a different artifact',
    { metadata: { runId: request.runId, model: found.model, version: found.version } },
  );
}

/** Seconds of a Timestamp (int64 arrives as a string); missing sorts first. */
function secondsOf(timestamp: ModelResource['createTime']): number {
  const seconds = Number(String(timestamp?.seconds ?? 0));
  return Number.isFinite(seconds) ? seconds + (timestamp?.nanos ?? 0) / 1e9 : 0;
}
