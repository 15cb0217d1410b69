/**
 * PipelineJobs over the Vertex AI PipelineService: reads a finished job with
 * GetPipelineJob (never List: it omits jobDetail) on the regional endpoint of
 * the job's location, and derives the training-completed fields with
 * pipeline-job-outputs.ts.
 */
import type { PipelineServiceClient } from '@google-cloud/aiplatform';
import { PermanentError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type { PipelineJobs, ResolvedPipelineJob } from '../../ports/pipeline-jobs.port.js';
import { isNotFound, toApiError } from './google-api-errors.js';
import {
  inspectPipelineJob,
  toResolvedPipelineJob,
  type PipelineJobInput,
} from './pipeline-job-outputs.js';

/** Options of the gax client constructor (`apiEndpoint`, `port`, `sslCreds`, `projectId`…). */
export type VertexClientOptions = NonNullable<
  ConstructorParameters<typeof PipelineServiceClient>[0]
>;

export interface VertexPipelineJobsOptions {
  /** Location of a job given by id alone; a full job name carries its own. */
  readonly region: string;
  readonly logger: Logger;
  /** Passed to every client; tests point `apiEndpoint`/`port` at a fake. */
  readonly clientOptions?: VertexClientOptions;
  /** Task name of the Pusher to deploy from, when a pipeline has several. */
  readonly pusherTask?: string;
  /**
   * Reads the metrics the trainer shipped in the pushed model (the wiring
   * reads `{dest}/assets.extra/metrics.json`, `{}` when missing). They win over
   * Evaluator metadata of the same name.
   */
  readonly readMetrics?: (pushedDestination: string) => Promise<Record<string, number>>;
}

const JOB_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/pipelineJobs\/([^/]+)$/;
const JOB_ID = /^[a-z0-9][a-z0-9-]{0,127}$/;

/**
 * The regional Vertex AI endpoint of a location. The clients' default host is
 * the global `aiplatform.googleapis.com`, which refuses regional resources.
 */
export function vertexApiEndpoint(location: string): string {
  return `${location}-aiplatform.googleapis.com`;
}

/** The location of a pipeline job name (`projects/{p}/locations/{l}/pipelineJobs/{id}`), if it is one. */
export function pipelineJobLocation(name: string): string | undefined {
  return JOB_NAME.exec(name)?.[2];
}

/** Client options for a location: its regional endpoint unless `overrides` name another. */
export function vertexClientOptions(
  location: string,
  overrides: VertexClientOptions = {},
): VertexClientOptions {
  return { apiEndpoint: vertexApiEndpoint(location), ...overrides };
}

/**
 * Resolves pipeline jobs reported by a log sink. One PipelineServiceClient per
 * location, created on first use (the library is loaded then too, never at import).
 */
export class VertexPipelineJobs implements PipelineJobs {
  private readonly clients = new Map<string, Promise<PipelineServiceClient>>();

  constructor(private readonly options: VertexPipelineJobsOptions) {}

  /**
   * `pipelineJob` is the full resource name, or a bare job id, looked up in
   * `region` of the client's project.
   */
  async resolve(pipelineJob: string): Promise<ResolvedPipelineJob> {
    const location = pipelineJobLocation(pipelineJob) ?? this.options.region;
    const client = await this.client(location);
    const name = await this.fullName(pipelineJob, location, client);
    const log = this.options.logger.child({ pipelineJob: name });
    const job = await this.getJob(client, name, location);
    log.info('read pipeline job', { state: job.state ?? null, endTime: job.endTime ?? null });
    const inspection = inspectPipelineJob(job, { pusherTask: this.options.pusherTask });
    if (inspection.kind === 'nothing_to_deploy') {
      log.info('pipeline job has nothing to deploy', { reason: inspection.reason });
      return inspection;
    }
    const bundleMetrics = this.options.readMetrics
      ? await this.options.readMetrics(inspection.pushedDestination)
      : {};
    const resolved = toResolvedPipelineJob(inspection, bundleMetrics);
    log.info('pipeline job pushed a model', { pushedDestination: inspection.pushedDestination });
    return resolved;
  }

  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map(async (client) => (await client).close()));
  }

  private async fullName(
    pipelineJob: string,
    location: string,
    client: PipelineServiceClient,
  ): Promise<string> {
    if (JOB_NAME.test(pipelineJob)) return pipelineJob;
    if (!JOB_ID.test(pipelineJob)) {
      throw new PermanentError(
        'PIPELINE.INVALID',
        `${JSON.stringify(pipelineJob)} is neither a pipeline job name ` +
          '(projects/{project}/locations/{location}/pipelineJobs/{id}) nor a job id',
      );
    }
    const project = await client.getProjectId();
    return `projects/${project}/locations/${location}/pipelineJobs/${pipelineJob}`;
  }

  private async getJob(
    client: PipelineServiceClient,
    name: string,
    location: string,
  ): Promise<PipelineJobInput> {
    try {
      const [job] = await client.getPipelineJob({ name });
      return job;
    } catch (error) {
      if (isNotFound(error)) {
        throw new PermanentError(
          'PIPELINE.NOT_FOUND',
          `pipeline job ${name} not found in location ${location}`,
          { cause: error, metadata: { pipelineJob: name } },
        );
      }
      throw toApiError(error, { call: 'Vertex AI getPipelineJob', rejected: 'PIPELINE.INVALID' });
    }
  }

  private client(location: string): Promise<PipelineServiceClient> {
    let client = this.clients.get(location);
    if (client === undefined) {
      client = this.createClient(location);
      this.clients.set(location, client);
    }
    return client;
  }

  private async createClient(location: string): Promise<PipelineServiceClient> {
    const { PipelineServiceClient } = await import('@google-cloud/aiplatform');
    return new PipelineServiceClient(vertexClientOptions(location, this.options.clientOptions));
  }
}
