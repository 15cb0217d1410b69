/**
 * A stateful local gRPC fake of the Cloud Run Admin API v2 (Services, Jobs,
 * Executions and the long-running Operations behind them), served from the
 * protos `@google-cloud/run` ships, so the real clients are tested over real
 * gRPC (/work/shared/reference/grpc-fakes.md). It behaves like Cloud Run where
 * recdeploy depends on it (gcp-facts.md §D):
 * - every update changes the service's `etag`; an update carrying a stale one
 *   is ABORTED;
 * - named revisions are immutable: the same name with a different template is
 *   refused with ALREADY_EXISTS (HTTP 409 "… with different configuration
 *   already exists"); the same name with the same template is accepted and
 *   creates nothing;
 * - Create/UpdateService answer an Operation with `done: false`; the change is
 *   visible at once (`generation`, `latestCreatedRevision`, `reconciling`) and
 *   reconciliation ends when the client polls GetOperation: then
 *   `latestReadyRevision`, `observedGeneration` and `trafficStatuses` (with
 *   tag URLs) follow, or, for a revision told to fail, `terminalCondition`
 *   says why while the serving state stays as it was;
 * - `latestReadyRevision`/`latestCreatedRevision` are full resource names,
 *   revisions in traffic are short names;
 * - RunJob starts an execution whose template carries the overrides; its
 *   operation completes only when the test finishes the execution.
 * Every request is recorded exactly as it arrived.
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import {
  listenOnLoopback,
  packAny,
  protobufRoot,
  loadGrpcPackage,
  serviceDefinition,
  serviceError,
  shutdown,
  type Callback,
} from './grpc-fake-server.js';

const RUN_PACKAGE = '@google-cloud/run';
const PROTO_FILES = [
  'google/cloud/run/v2/service.proto',
  'google/cloud/run/v2/job.proto',
  'google/cloud/run/v2/execution.proto',
  'google/longrunning/operations.proto',
];

// --- wire shapes (proto-loader objects, camelCase, no defaults): the fields the fake reads.

export interface EnvVarWire {
  name?: string;
  value?: string;
}
export interface TrafficTargetWire {
  type?: string;
  revision?: string;
  percent?: number;
  tag?: string;
}
export interface TrafficStatusWire extends TrafficTargetWire {
  uri?: string;
}
export interface ConditionWire {
  type?: string;
  state?: string;
  message?: string;
  severity?: string;
  reason?: string;
  executionReason?: string;
}
export interface ContainerWire {
  image?: string;
  env?: EnvVarWire[];
  [field: string]: unknown;
}
export interface RevisionTemplateWire {
  revision?: string;
  labels?: Record<string, string>;
  containers?: ContainerWire[];
  [field: string]: unknown;
}
export interface ServiceWire {
  name?: string;
  uid?: string;
  generation?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ingress?: string;
  invokerIamDisabled?: boolean;
  template?: RevisionTemplateWire;
  traffic?: TrafficTargetWire[];
  observedGeneration?: string;
  terminalCondition?: ConditionWire;
  conditions?: ConditionWire[];
  latestReadyRevision?: string;
  latestCreatedRevision?: string;
  trafficStatuses?: TrafficStatusWire[];
  uri?: string;
  reconciling?: boolean;
  etag?: string;
  [field: string]: unknown;
}
export interface CreateServiceRequestWire {
  parent?: string;
  serviceId?: string;
  service?: ServiceWire;
}
export interface UpdateServiceRequestWire {
  service?: ServiceWire;
  allowMissing?: boolean;
}
export interface RunJobRequestWire {
  name?: string;
  overrides?: {
    containerOverrides?: { name?: string; env?: EnvVarWire[]; args?: string[] }[];
    taskCount?: number;
    timeout?: { seconds?: string; nanos?: number };
  };
}
export interface TimestampWire {
  seconds: string;
  nanos: number;
}
export interface ExecutionWire {
  name: string;
  uid: string;
  job: string;
  createTime: TimestampWire;
  startTime?: TimestampWire;
  completionTime?: TimestampWire;
  taskCount: number;
  template: { containers: ContainerWire[]; timeout?: { seconds?: string }; maxRetries: number };
  reconciling: boolean;
  conditions: ConditionWire[];
  runningCount: number;
  succeededCount: number;
  failedCount: number;
  cancelledCount: number;
  etag: string;
}
interface OperationWire {
  name: string;
  done: boolean;
  metadata?: { typeUrl: string; value: Buffer };
  response?: { typeUrl: string; value: Buffer };
  error?: { code: number; message: string };
}

/** One RPC as the fake received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly request: unknown;
  /** The error code the fake answered with, if it did. */
  readonly errorCode?: number;
}

interface InjectedFailure {
  readonly code: grpc.status;
  readonly details: string;
  /** Do the work first, then answer the error: the caller cannot tell whether it happened. */
  readonly afterApplying: boolean;
}

interface PendingOperation {
  /** Observations (GetOperation polls, or reads of the service it changes) before it ends. */
  pollsLeft: number;
  /** The service the operation reconciles: Cloud Run reconciles whether or not anyone polls. */
  readonly service?: string;
  /** Ends the operation: a response or an error; undefined while it cannot end yet. */
  readonly finish: () => Pick<OperationWire, 'response' | 'error'> | undefined;
  outcome?: Pick<OperationWire, 'response' | 'error'>;
}

export interface CloudRunFakeOptions {
  readonly project?: string;
  readonly region?: string;
  /** Observations answered `done: false` / `reconciling: true` before an operation completes. */
  readonly pendingPolls?: number;
  /** Page size ListExecutions uses when the request names none (small, to exercise paging). */
  readonly executionsPageSize?: number;
}

/** The URL hash Cloud Run puts in every generated URL of a service (fixed here). */
export const FAKE_URL_SUFFIX = 'abc123-uc.a.run.app';

export class CloudRunFake {
  readonly requests: RecordedRequest[] = [];
  readonly project: string;
  readonly region: string;
  port = 0;
  private readonly server = new grpc.Server();
  private readonly anyRoot: protobuf.Root;
  private readonly pendingPolls: number;
  private readonly executionsPageSize: number;
  private readonly services = new Map<string, ServiceWire>();
  /** Every revision ever created (short name) → its template, canonical. */
  private readonly revisions = new Map<string, string>();
  private readonly failingRevisions = new Map<string, string>();
  private readonly iamPolicies = new Map<string, unknown>();
  private readonly operations = new Map<string, PendingOperation>();
  private readonly jobs = new Map<string, { image: string; env: EnvVarWire[] }>();
  private readonly executions: ExecutionWire[] = [];
  private readonly failures = new Map<string, InjectedFailure[]>();
  private readonly hooks = new Map<string, (() => void)[]>();
  private operationsHeld = false;
  private counter = 0;

  constructor(options: CloudRunFakeOptions = {}) {
    this.project = options.project ?? 'test-project';
    this.region = options.region ?? 'us-central1';
    this.pendingPolls = options.pendingPolls ?? 1;
    this.executionsPageSize = options.executionsPageSize ?? 2;
    const root = loadGrpcPackage(RUN_PACKAGE, PROTO_FILES, { wireOnly: true });
    this.anyRoot = protobufRoot(RUN_PACKAGE, PROTO_FILES.slice(0, 3));
    this.server.addService(serviceDefinition(root, 'google.cloud.run.v2.Services'), {
      GetService: this.unary('GetService', (r: { name?: string }) => this.getService(r)),
      CreateService: this.unary('CreateService', (r: CreateServiceRequestWire) =>
        this.createService(r),
      ),
      UpdateService: this.unary('UpdateService', (r: UpdateServiceRequestWire) =>
        this.updateService(r),
      ),
      GetIamPolicy: this.unary('GetIamPolicy', (r: { resource?: string }) => ({
        ...(this.iamPolicies.get(r.resource ?? '') ?? { bindings: [] }),
      })),
      SetIamPolicy: this.unary('SetIamPolicy', (r: { resource?: string; policy?: unknown }) => {
        this.iamPolicies.set(r.resource ?? '', r.policy ?? {});
        return r.policy ?? {};
      }),
    });
    this.server.addService(serviceDefinition(root, 'google.cloud.run.v2.Jobs'), {
      RunJob: this.unary('RunJob', (r: RunJobRequestWire) => this.runJob(r)),
    });
    this.server.addService(serviceDefinition(root, 'google.cloud.run.v2.Executions'), {
      ListExecutions: this.unary(
        'ListExecutions',
        (r: { parent?: string; pageSize?: number; pageToken?: string }) => this.listExecutions(r),
      ),
      GetExecution: this.unary('GetExecution', (r: { name?: string }) => {
        const execution = this.executions.find((e) => e.name === r.name);
        if (!execution) throw notFound(r.name ?? '');
        return execution;
      }),
    });
    this.server.addService(serviceDefinition(root, 'google.longrunning.Operations'), {
      GetOperation: this.unary('GetOperation', (r: { name?: string }) =>
        this.getOperation(r.name ?? ''),
      ),
    });
  }

  async start(): Promise<number> {
    this.port = await listenOnLoopback(this.server);
    return this.port;
  }

  async stop(): Promise<void> {
    await shutdown(this.server);
  }

  // --- test controls

  /** `projects/{p}/locations/{r}/services/{id}`. */
  serviceName(id: string): string {
    return `projects/${this.project}/locations/${this.region}/services/${id}`;
  }

  /** The requests of one method, in arrival order. */
  requestsOf<T>(method: string): T[] {
    return this.requests.filter((r) => r.method === method).map((r) => r.request as T);
  }

  /** Answers the next call of `method` with `code` (after doing the work, when `afterApplying`). */
  failNext(
    method: string,
    code: grpc.status,
    details = 'injected by the fake',
    afterApplying = false,
  ): void {
    const queue = this.failures.get(method) ?? [];
    queue.push({ code, details, afterApplying });
    this.failures.set(method, queue);
  }

  /** Runs `hook` when the next call of `method` arrives, before it is served. */
  beforeNext(method: string, hook: () => void): void {
    const queue = this.hooks.get(method) ?? [];
    queue.push(hook);
    this.hooks.set(method, queue);
  }

  /** Makes revision `revision` (short name) fail to start with `message`. */
  failRevision(revision: string, message: string): void {
    this.failingRevisions.set(revision, message);
  }

  /** Keeps every operation pending (a reconciliation that never ends). */
  holdOperations(): void {
    this.operationsHeld = true;
  }

  /** The stored service (a copy), or undefined. */
  service(id: string): ServiceWire | undefined {
    const service = this.services.get(this.serviceName(id));
    return service && structuredClone(service);
  }

  /** Another writer changed the service: its generation and etag move on. */
  touchService(id: string, annotations: Record<string, string>): void {
    const service = this.services.get(this.serviceName(id));
    if (!service) throw new Error(`no service ${id}`);
    service.annotations = { ...service.annotations, ...annotations };
    service.generation = String(Number(service.generation) + 1);
    service.observedGeneration = service.generation;
    service.etag = this.nextEtag();
  }

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

  // --- Services

  private getService(request: { name?: string }): ServiceWire {
    const service = this.services.get(request.name ?? '');
    if (!service) throw notFound(request.name ?? '');
    for (const operation of this.operations.values()) {
      if (operation.service === service.name) this.advance(operation);
    }
    return service;
  }

  private createService(request: CreateServiceRequestWire): OperationWire {
    const parent = request.parent ?? '';
    const id = request.serviceId ?? '';
    if (parent !== `projects/${this.project}/locations/${this.region}`) {
      throw serviceError(grpc.status.INVALID_ARGUMENT, `bad parent ${parent}`);
    }
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(id) || id.length >= 50) {
      throw serviceError(grpc.status.INVALID_ARGUMENT, `invalid service_id ${id}`);
    }
    const name = `${parent}/services/${id}`;
    if (this.services.has(name)) {
      throw serviceError(grpc.status.ALREADY_EXISTS, `Resource '${id}' already exists.`);
    }
    const service: ServiceWire = {
      ...structuredClone(request.service ?? {}),
      name,
      uid: `uid-${++this.counter}`,
      generation: '0',
      observedGeneration: '0',
      trafficStatuses: [],
      uri: '',
    };
    this.applySpec(service, request.service ?? {}, id);
    this.services.set(name, service);
    return this.startReconcile(service, id);
  }

  private updateService(request: UpdateServiceRequestWire): OperationWire {
    const desired = request.service ?? {};
    const name = desired.name ?? '';
    const service = this.services.get(name);
    if (!service) throw notFound(name);
    if (desired.etag && desired.etag !== service.etag) {
      throw serviceError(
        grpc.status.ABORTED,
        `etag mismatch: the resource was modified (given ${desired.etag}, current ${service.etag})`,
      );
    }
    const id = name.split('/').pop() ?? '';
    this.applySpec(service, desired, id);
    return this.startReconcile(service, id);
  }

  /** Validates and stores the writable fields; creates the template's revision if it is new. */
  private applySpec(service: ServiceWire, desired: ServiceWire, id: string): void {
    const template = desired.template;
    if (!template?.containers?.length) {
      throw serviceError(
        grpc.status.INVALID_ARGUMENT,
        'template.containers: at least one required',
      );
    }
    const canonical = canonicalJson({ ...template, revision: undefined });
    const revision = template.revision || `${id}-${String(++this.counter).padStart(5, '0')}-gen`;
    const existing = this.revisions.get(revision);
    if (existing !== undefined && existing !== canonical) {
      throw serviceError(
        grpc.status.ALREADY_EXISTS,
        `Revision named '${revision}' with different configuration already exists.`,
      );
    }
    const traffic = desired.traffic ?? [];
    this.validateTraffic(traffic, revision);
    this.revisions.set(revision, canonical);
    service.template = structuredClone(template);
    service.traffic = structuredClone(traffic);
    service.labels = { ...desired.labels };
    service.annotations = { ...desired.annotations };
    service.ingress = desired.ingress;
    service.invokerIamDisabled = desired.invokerIamDisabled;
    service.latestCreatedRevision = this.revisionName(id, revision);
    service.generation = String(Number(service.generation ?? '0') + 1);
    service.reconciling = true;
    service.etag = this.nextEtag();
  }

  private validateTraffic(traffic: readonly TrafficTargetWire[], templateRevision: string): void {
    if (traffic.length === 0) return;
    const total = traffic.reduce((sum, t) => sum + (t.percent ?? 0), 0);
    if (total !== 100) {
      throw serviceError(
        grpc.status.INVALID_ARGUMENT,
        `traffic percents must sum to 100, got ${total}`,
      );
    }
    const tags = traffic.map((t) => t.tag).filter((t): t is string => !!t);
    if (new Set(tags).size !== tags.length) {
      throw serviceError(
        grpc.status.INVALID_ARGUMENT,
        `traffic tags must be unique: ${tags.join(',')}`,
      );
    }
    for (const target of traffic) {
      if (target.type !== 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION') continue;
      const revision = target.revision ?? '';
      if (revision.includes('/')) {
        throw serviceError(
          grpc.status.INVALID_ARGUMENT,
          `traffic revision must be a short name: ${revision}`,
        );
      }
      if (revision !== templateRevision && !this.revisions.has(revision)) {
        throw serviceError(grpc.status.INVALID_ARGUMENT, `Revision '${revision}' does not exist.`);
      }
    }
  }

  private startReconcile(service: ServiceWire, id: string): OperationWire {
    const generation = service.generation;
    return this.startOperation(undefined, service.name, () => {
      if (service.generation !== generation) return { response: this.pack('Service', service) };
      return this.finishReconcile(service, id);
    });
  }

  private finishReconcile(
    service: ServiceWire,
    id: string,
  ): Pick<OperationWire, 'response' | 'error'> {
    service.reconciling = false;
    const created = shortName(service.latestCreatedRevision ?? '');
    const failure = this.failingRevisions.get(created) ?? this.unroutable(service.traffic ?? []);
    if (failure !== undefined) {
      // Failed reconciliation: the serving state stays as it was.
      service.terminalCondition = {
        type: 'Ready',
        state: 'CONDITION_FAILED',
        severity: 'ERROR',
        message: failure,
      };
      service.conditions = [
        {
          type: 'ConfigurationsReady',
          state: 'CONDITION_FAILED',
          severity: 'ERROR',
          message: failure,
        },
      ];
      return { error: { code: grpc.status.FAILED_PRECONDITION, message: failure } };
    }
    const traffic = service.traffic ?? [];
    const effective: TrafficTargetWire[] = traffic.length
      ? traffic
      : [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }];
    service.latestReadyRevision = service.latestCreatedRevision;
    service.observedGeneration = service.generation;
    service.trafficStatuses = effective.map((t) => ({
      type: t.type,
      revision: t.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' ? '' : t.revision,
      percent: t.percent ?? 0,
      tag: t.tag ?? '',
      uri: t.tag ? `https://${t.tag}---${id}-${FAKE_URL_SUFFIX}` : '',
    }));
    service.uri = `https://${id}-${FAKE_URL_SUFFIX}`;
    service.terminalCondition = { type: 'Ready', state: 'CONDITION_SUCCEEDED' };
    service.conditions = [];
    return { response: this.pack('Service', service) };
  }

  /** Why a traffic target cannot be routed: it names a revision that never became ready. */
  private unroutable(traffic: readonly TrafficTargetWire[]): string | undefined {
    const stuck = traffic.find(
      (t) =>
        t.type === 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' &&
        this.failingRevisions.has(t.revision ?? ''),
    );
    return stuck && `Revision '${stuck.revision}' is not ready and cannot serve traffic.`;
  }

  // --- Jobs and executions

  private runJob(request: RunJobRequestWire): OperationWire {
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
    const execution: ExecutionWire = {
      name: `${jobName}/executions/${jobId}-${(++this.counter).toString(36).padStart(5, '0')}`,
      uid: `uid-${this.counter}`,
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
      etag: this.nextEtag(),
    };
    this.executions.push(execution);
    return this.startOperation(this.pack('Execution', execution), undefined, () => {
      if (execution.completionTime === undefined) return undefined;
      if (execution.succeededCount > 0) return { response: this.pack('Execution', execution) };
      return { error: { code: grpc.status.FAILED_PRECONDITION, message: 'The execution failed.' } };
    });
  }

  private listExecutions(request: { parent?: string; pageSize?: number; pageToken?: string }): {
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

  // --- operations

  private startOperation(
    metadata: OperationWire['metadata'],
    service: string | undefined,
    finish: PendingOperation['finish'],
  ): OperationWire {
    const name = `projects/${this.project}/locations/${this.region}/operations/op-${++this.counter}`;
    this.operations.set(name, {
      pollsLeft: this.pendingPolls,
      finish,
      ...(service !== undefined && { service }),
    });
    return { name, done: false, ...(metadata && { metadata }) };
  }

  private getOperation(name: string): OperationWire {
    const operation = this.operations.get(name);
    if (!operation) throw notFound(name);
    const outcome = this.advance(operation);
    return outcome === undefined ? { name, done: false } : { name, done: true, ...outcome };
  }

  /** One observation of an operation: it ends after `pendingPolls` of them. */
  private advance(operation: PendingOperation): PendingOperation['outcome'] {
    if (operation.outcome !== undefined) return operation.outcome;
    if (this.operationsHeld || operation.pollsLeft > 0) {
      operation.pollsLeft--;
      return undefined;
    }
    operation.outcome = operation.finish();
    return operation.outcome;
  }

  // --- plumbing

  /** Records the request, runs hooks and injected failures, then serves it. */
  private unary<Req>(method: string, serve: (request: Req) => unknown) {
    return (call: { request: Req }, callback: Callback<unknown>): void => {
      const request = structuredClone(call.request);
      this.hooks.get(method)?.shift()?.();
      const failure = this.failures.get(method)?.shift();
      const record = (errorCode?: number) =>
        this.requests.push({ method, request, ...(errorCode !== undefined && { errorCode }) });
      if (failure && !failure.afterApplying) {
        record(failure.code);
        callback(serviceError(failure.code, failure.details));
        return;
      }
      try {
        const response = serve(call.request);
        if (failure) {
          record(failure.code);
          callback(serviceError(failure.code, failure.details));
          return;
        }
        record();
        callback(null, structuredClone(response));
      } catch (error) {
        const code = (error as grpc.ServiceError).code;
        record(code);
        callback(error as grpc.ServiceError);
      }
    };
  }

  private pack(type: 'Service' | 'Execution', value: object): { typeUrl: string; value: Buffer } {
    return packAny(this.anyRoot, `google.cloud.run.v2.${type}`, value as Record<string, unknown>);
  }

  private revisionName(id: string, revision: string): string {
    return `${this.serviceName(id)}/revisions/${revision}`;
  }

  private nextEtag(): string {
    return `"etag-${++this.counter}"`;
  }

  private timestamp(): TimestampWire {
    return { seconds: String(1_800_000_000 + ++this.counter), nanos: 0 };
  }
}

function notFound(name: string): grpc.ServiceError {
  return serviceError(grpc.status.NOT_FOUND, `Resource '${name}' was not found`);
}

function shortName(name: string): string {
  return name.split('/').pop() ?? name;
}

/**
 * Proto3 equality as JSON: object keys sorted (maps are unordered on the
 * wire, lists are not) and default values dropped. protobufjs puts a field on
 * the wire whenever the sender's object has it, so a template read back (with
 * defaults) and sent again carries `''`, `0` and `false` the first request
 * left out; the server cannot tell those from absent fields.
 */
function canonicalJson(value: unknown): string {
  return JSON.stringify(withoutDefaults(value) ?? {});
}

function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => withoutDefaults(v) ?? {});
    return items.length ? items : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => [k, withoutDefaults(v)] as const)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  const isDefault =
    value === null ||
    value === undefined ||
    value === '' ||
    value === 0 ||
    value === '0' ||
    value === false ||
    (typeof value === 'string' && value.endsWith('_UNSPECIFIED'));
  return isDefault ? undefined : value;
}
