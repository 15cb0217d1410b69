/**
 * The Jobs and Executions half of the Cloud Run fake: RunJob starts an
 * execution whose template carries the overrides; its operation completes
 * only when the test finishes the execution (setExecutionOutcome), the way a
 * real RunJob operation lasts as long as the execution.
 */
import * as grpc from '@grpc/grpc-js';
import {
  notFound,
  type ConditionWire,
  type EnvVarWire,
  type ExecutionWire,
  type OperationOutcome,
  type Pack,
  type RunJobRequestWire,
  type TimestampWire,
} from './cloud-run-fake-wire.js';

/** What RunJob hands to the operation machinery. */
export interface StartedExecution {
  readonly metadata: ReturnType<Pack>;
  /** Ends the operation once the execution completed; undefined while it runs. */
  readonly finish: () => OperationOutcome | undefined;
}

export class FakeJobs {
  private readonly jobs = new Map<string, { image: string; env: EnvVarWire[] }>();
  private readonly executions: ExecutionWire[] = [];

  constructor(
    private readonly next: () => number,
    private readonly pack: Pack,
    private readonly executionsPageSize: number,
  ) {}

  registerJob(name: string, env: EnvVarWire[] = []): void {
    this.jobs.set(name, { image: 'us-docker.pkg.dev/p/recdeploy/index-builder:1', env });
  }

  execution(name: string): ExecutionWire | undefined {
    return this.executions.find((e) => e.name === name);
  }

  /** Every execution, oldest first. */
  allExecutions(): readonly ExecutionWire[] {
    return this.executions;
  }

  /** Sets an execution's task counts and conditions the way Cloud Run reports progress. */
  setExecutionOutcome(
    name: string,
    outcome: 'running' | 'succeeded' | 'failed' | 'cancelled',
    message = '',
  ): void {
    const execution = this.execution(name);
    if (!execution) throw new Error(`no execution ${name}`);
    const now = this.timestamp();
    execution.startTime ??= now;
    execution.runningCount = outcome === 'running' ? 1 : 0;
    execution.succeededCount = outcome === 'succeeded' ? 1 : 0;
    execution.failedCount = outcome === 'failed' ? 1 : 0;
    execution.cancelledCount = outcome === 'cancelled' ? 1 : 0;
    execution.reconciling = outcome === 'running';
    if (outcome !== 'running') execution.completionTime = now;
    const completed: ConditionWire =
      outcome === 'running'
        ? { type: 'Completed', state: 'CONDITION_RECONCILING' }
        : outcome === 'succeeded'
          ? {
              type: 'Completed',
              state: 'CONDITION_SUCCEEDED',
              message: 'Execution completed successfully.',
            }
          : {
              type: 'Completed',
              state: 'CONDITION_FAILED',
              severity: 'ERROR',
              message,
              executionReason: outcome === 'cancelled' ? 'CANCELLED' : 'NON_ZERO_EXIT_CODE',
            };
    execution.conditions = [
      { type: 'ResourcesAvailable', state: 'CONDITION_SUCCEEDED' },
      completed,
    ];
  }

  runJob(request: RunJobRequestWire): StartedExecution {
    const jobName = request.name ?? '';
    const job = this.jobs.get(jobName);
    if (!job) throw notFound(jobName);
    const override = request.overrides?.containerOverrides?.[0];
    const env = [...job.env];
    for (const variable of override?.env ?? []) {
      const at = env.findIndex((e) => e.name === variable.name);
      if (at >= 0) env[at] = variable;
      else env.push(variable);
    }
    const jobId = jobName.split('/').pop() ?? 'job';
    const n = this.next();
    const execution: ExecutionWire = {
      name: `${jobName}/executions/${jobId}-${n.toString(36).padStart(5, '0')}`,
      uid: `uid-${n}`,
      job: jobId,
      createTime: this.timestamp(),
      taskCount: request.overrides?.taskCount || 1,
      template: {
        containers: [{ image: job.image, env }],
        ...(request.overrides?.timeout && { timeout: request.overrides.timeout }),
        maxRetries: 0,
      },
      reconciling: true,
      conditions: [{ type: 'Completed', state: 'CONDITION_PENDING' }],
      runningCount: 0,
      succeededCount: 0,
      failedCount: 0,
      cancelledCount: 0,
      etag: `"etag-${this.next()}"`,
    };
    this.executions.push(execution);
    return {
      metadata: this.pack('Execution', execution),
      finish: () => {
        if (execution.completionTime === undefined) return undefined;
        if (execution.succeededCount > 0) return { response: this.pack('Execution', execution) };
        return {
          error: { code: grpc.status.FAILED_PRECONDITION, message: 'The execution failed.' },
        };
      },
    };
  }

  listExecutions(request: { parent?: string; pageSize?: number; pageToken?: string }): {
    executions: ExecutionWire[];
    nextPageToken: string;
  } {
    const jobName = request.parent ?? '';
    if (!this.jobs.has(jobName)) throw notFound(jobName);
    const jobId = jobName.split('/').pop();
    const all = this.executions.filter((e) => e.job === jobId);
    const start = Number(request.pageToken || '0');
    const size = request.pageSize || this.executionsPageSize;
    const page = all.slice(start, start + size);
    const next = start + size < all.length ? String(start + size) : '';
    return { executions: page, nextPageToken: next };
  }

  getExecution(name: string): ExecutionWire {
    const execution = this.execution(name);
    if (!execution) throw notFound(name);
    return execution;
  }

  private timestamp(): TimestampWire {
    return { seconds: String(1_800_000_000 + this.next()), nanos: 0 };
  }
}
