/**
 * IndexBuilds as executions of a pre-created Cloud Run job (`@google-cloud/run`
 * JobsClient and ExecutionsClient). Each build is one execution whose
 * container env carries the run id, the bundle and what to publish when it
 * ends; the execution is found again by that env, which Cloud Run applies to
 * the execution's task template (RunJobRequest.Overrides: "overrides will be
 * applied to update the execution or task spec"; Execution.template: "the
 * template used to create tasks for this execution"). Executions carry no
 * labels of their own (they are output-only, copied from the job), so the env
 * is the one per-execution mark a RunJob call can set.
 */
import type { ExecutionsClient, JobsClient, protos } from '@google-cloud/run';
import { PermanentError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type {
  IndexBuildRequest,
  IndexBuildStatus,
  IndexBuilds,
} from '../../ports/index-builds.port.js';
import { isAmbiguous, isNotFound, toApiError } from './google-api-errors.js';

type JobsClientOptions = NonNullable<ConstructorParameters<typeof JobsClient>[0]>;
type ExecutionMessage = protos.google.cloud.run.v2.IExecution;

export interface CloudRunIndexBuildsOptions {
  /** Full resource name of the job, e.g. `projects/p/locations/l/jobs/recdeploy-build-index`. */
  readonly jobName: string;
  readonly logger: Logger;
  /** Passed to the JobsClient and ExecutionsClient constructors (tests point them at a fake). */
  readonly clientOptions?: JobsClientOptions;
  /** Task timeout of a build execution in seconds; the job's own timeout when absent. */
  readonly timeoutS?: number;
}

/** The env a build execution receives (the index builder's contract). */
export const INDEX_BUILD_ENV = {
  runId: 'RECDEPLOY_RUN_ID',
  artifactUri: 'ARTIFACT_URI',
  notifyTopic: 'NOTIFY_TOPIC',
  notifyMessage: 'NOTIFY_MESSAGE',
} as const;

/** Cloud Run's limit on one env value. */
const MAX_ENV_VALUE_BYTES = 32_768;

const CONDITION_FAILED = 'CONDITION_FAILED';
const CONDITION_SUCCEEDED = 'CONDITION_SUCCEEDED';

/**
 * Build executions of one Cloud Run job. `start` never restarts a build that
 * failed: it reports the failure, and the deploy step fails the run
 * permanently (a failed build is a property of the bundle far more often than
 * a passing accident, and the execution already retried its task as the job
 * is configured to). Publishing the training event again starts a new run.
 */
export class CloudRunIndexBuilds implements IndexBuilds {
  private readonly options: CloudRunIndexBuildsOptions;
  private readonly logger: Logger;
  private clients: Promise<{ jobs: JobsClient; executions: ExecutionsClient }> | undefined;

  constructor(options: CloudRunIndexBuildsOptions) {
    this.options = options;
    this.logger = options.logger.child({ job: options.jobName });
  }

  async start(request: IndexBuildRequest): Promise<IndexBuildStatus> {
    const log = this.logger.child({ runId: request.runId });
    const existing = await this.status(request.runId);
    if (existing.state !== 'not_found') {
      log.info('index build already started; not starting another', { ...existing });
      return existing;
    }
    const env = buildEnv(request);
    const { jobs } = await this.clientsOnce();
    try {
      // Not awaiting the operation: it completes only when the execution ends.
      const [operation] = await jobs.runJob({
        name: this.options.jobName,
        overrides: {
          containerOverrides: [{ env }],
          taskCount: 1,
          ...(this.options.timeoutS !== undefined && {
            timeout: { seconds: this.options.timeoutS },
          }),
        },
      });
      const execution = executionNameOf(operation.metadata);
      log.info('index build started', { execution: execution ?? null });
      return { state: 'running', ...(execution !== undefined && { execution }) };
    } catch (error) {
      // RunJob is not idempotent: after an ambiguous failure, look before retrying.
      if (isAmbiguous(error)) {
        const after = await this.status(request.runId);
        if (after.state !== 'not_found') return after;
      }
      throw this.apiError(error, 'runJob');
    }
  }

  async status(runId: string): Promise<IndexBuildStatus> {
    const { executions } = await this.clientsOnce();
    let newest: ExecutionMessage | undefined;
    try {
      // The listing order is not documented: keep the newest match by createTime.
      // autoPaginate off: the async iterator pages by itself (gax warns otherwise).
      const listing = executions.listExecutionsAsync(
        { parent: this.options.jobName },
        { autoPaginate: false },
      );
      for await (const execution of listing) {
        if (!carriesRunId(execution, runId)) continue;
        if (newest === undefined || createdMillis(execution) > createdMillis(newest)) {
          newest = execution;
        }
      }
    } catch (error) {
      throw this.apiError(error, 'listExecutions');
    }
    return newest === undefined ? { state: 'not_found' } : indexBuildStatusOf(newest);
  }

  async close(): Promise<void> {
    const clients = this.clients;
    this.clients = undefined;
    if (clients === undefined) return;
    const { jobs, executions } = await clients;
    await Promise.all([jobs.close(), executions.close()]);
  }

  private apiError(error: unknown, call: string): Error {
    if (isNotFound(error)) {
      return new PermanentError(
        'PLATFORM.NOT_FOUND',
        `Cloud Run job ${this.options.jobName} does not exist (${call}); create the index-build job before deploying ANN models`,
        { cause: error, metadata: { job: this.options.jobName } },
      );
    }
    return toApiError(error, { call: `Cloud Run ${call}`, rejected: 'PLATFORM.REJECTED' });
  }

  private clientsOnce(): Promise<{ jobs: JobsClient; executions: ExecutionsClient }> {
    this.clients ??= (async () => {
      const run = await import('@google-cloud/run');
      const options = this.options.clientOptions ?? {};
      return { jobs: new run.JobsClient(options), executions: new run.ExecutionsClient(options) };
    })();
    return this.clients;
  }
}

/** The execution's state as IndexBuilds reports it. */
export function indexBuildStatusOf(execution: ExecutionMessage): IndexBuildStatus {
  const name = execution.name ?? '';
  const completed = (execution.conditions ?? []).find((c) => c.type === 'Completed');
  const state = completed?.state;
  const logs = execution.logUri ? ` (logs: ${execution.logUri})` : '';
  if (enumIs(state, CONDITION_SUCCEEDED, 4)) return { state: 'succeeded', execution: name };
  if (enumIs(state, CONDITION_FAILED, 3)) {
    return {
      state: 'failed',
      execution: name,
      error: (completed?.message || countsOf(execution)) + logs,
    };
  }
  if (execution.completionTime) {
    const allSucceeded =
      (execution.succeededCount ?? 0) >= Math.max(1, execution.taskCount ?? 1) &&
      !execution.failedCount &&
      !execution.cancelledCount;
    return allSucceeded
      ? { state: 'succeeded', execution: name }
      : { state: 'failed', execution: name, error: countsOf(execution) + logs };
  }
  return { state: 'running', execution: name };
}

/** Enum fields come back from reads as names, in decoded operation results as numbers. */
function enumIs(value: unknown, name: string, number: number): boolean {
  return value === name || value === number;
}

function countsOf(execution: ExecutionMessage): string {
  return (
    `execution ${execution.name ?? ''} ended with ${execution.succeededCount ?? 0} succeeded, ` +
    `${execution.failedCount ?? 0} failed and ${execution.cancelledCount ?? 0} cancelled of ` +
    `${execution.taskCount ?? 1} task(s)`
  );
}

function buildEnv(request: IndexBuildRequest): { name: string; value: string }[] {
  const message = JSON.stringify(request.notify.message);
  if (Buffer.byteLength(message, 'utf8') > MAX_ENV_VALUE_BYTES) {
    throw new PermanentError(
      'PLATFORM.REJECTED',
      `index build notify message for run ${request.runId} is ${Buffer.byteLength(message, 'utf8')} bytes; a Cloud Run env value holds at most ${MAX_ENV_VALUE_BYTES}`,
      { metadata: { runId: request.runId } },
    );
  }
  return [
    { name: INDEX_BUILD_ENV.runId, value: request.runId },
    { name: INDEX_BUILD_ENV.artifactUri, value: request.artifactUri },
    { name: INDEX_BUILD_ENV.notifyTopic, value: request.notify.topic },
    { name: INDEX_BUILD_ENV.notifyMessage, value: message },
  ];
}

function carriesRunId(execution: ExecutionMessage, runId: string): boolean {
  return (execution.template?.containers ?? []).some((container) =>
    (container.env ?? []).some((e) => e.name === INDEX_BUILD_ENV.runId && e.value === runId),
  );
}

function createdMillis(execution: ExecutionMessage): number {
  const time = execution.createTime;
  return Number(String(time?.seconds ?? 0)) * 1_000 + Math.floor((time?.nanos ?? 0) / 1e6);
}

/** The execution's name from RunJob's operation metadata (an Execution), when Cloud Run sent one. */
function executionNameOf(metadata: unknown): string | undefined {
  const name = (metadata as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
