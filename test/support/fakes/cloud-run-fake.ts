/**
 * A stateful local gRPC fake of the Cloud Run Admin API v2 (Services, Jobs,
 * Executions and the long-running Operations behind them), served from the
 * protos `@google-cloud/run` ships, so the real clients are tested over real
 * gRPC (/work/shared/reference/grpc-fakes.md). It behaves like Cloud Run where
 * recdeploy depends on it; the Services rules cite their sources beside the
 * code (cloud-run-fake-services.ts). In short:
 * - every update changes the service's `etag`; an update carrying a stale one
 *   is ABORTED;
 * - named revisions are immutable: the same name with a different template is
 *   refused with ALREADY_EXISTS ("… with different configuration already
 *   exists"); the same name with the same template creates nothing;
 * - Create/UpdateService answer an Operation with `done: false`; the change is
 *   visible at once (`generation`, `latestCreatedRevision`, `traffic`,
 *   `reconciling`) and reconciliation ends when the operation is next
 *   observed (GetOperation, or a read of the service): then
 *   `latestReadyRevision`, `observedGeneration` and `trafficStatuses` (with
 *   tag URLs) follow `traffic`;
 * - a revision told to fail (failRevision) never becomes ready: the
 *   reconciliation that meets it (as the latest created revision, or named in
 *   `traffic`) fails. Then `traffic` keeps what was sent, failed revision
 *   included, while `trafficStatuses`, `observedGeneration` and
 *   `latestReadyRevision` keep the last serving state (empty for a service
 *   whose first revision failed), `terminalCondition` is Ready/FAILED with
 *   "Revision '…' is not ready and cannot serve traffic. <reason>", and the
 *   operation ends with that error (FAILED_PRECONDITION);
 * - `latestReadyRevision`/`latestCreatedRevision` are full resource names,
 *   revisions in traffic are short names;
 * - a tag whose length plus the service name's exceeds 46, and a revision
 *   name not beginning with `{service}-`, are refused with INVALID_ARGUMENT;
 *   an update replaces every writable field (cloud-run-fake-service-rules.ts);
 * - a caller denied run.services.setIamPolicy (denyPermission) cannot change
 *   `invokerIamDisabled` or call SetIamPolicy (PERMISSION_DENIED);
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
  shutdown,
} from './grpc-fake-server.js';
import { FakeJobs } from './cloud-run-fake-jobs.js';
import { FakeOperations } from './cloud-run-fake-operations.js';
import { FakeServices } from './cloud-run-fake-services.js';
import { RecordedCalls, type RecordedRequest } from './cloud-run-fake-calls.js';
import { checkSetIamPolicy } from './cloud-run-fake-service-rules.js';
import type {
  CreateServiceRequestWire,
  EnvVarWire,
  ExecutionWire,
  RevisionHost,
  RevisionTemplateWire,
  RunJobRequestWire,
  ServiceWire,
  UpdateServiceRequestWire,
} from './cloud-run-fake-wire.js';

export type * from './cloud-run-fake-wire.js';
export type { RecordedRequest } from './cloud-run-fake-calls.js';
export { FAKE_URL_SUFFIX } from './cloud-run-fake-services.js';

const RUN_PACKAGE = '@google-cloud/run';
const PROTO_FILES = [
  'google/cloud/run/v2/service.proto',
  'google/cloud/run/v2/job.proto',
  'google/cloud/run/v2/execution.proto',
  'google/longrunning/operations.proto',
];

export interface CloudRunFakeOptions {
  readonly project?: string;
  readonly region?: string;
  /** Observations answered `done: false` / `reconciling: true` before an operation completes. */
  readonly pendingPolls?: number;
  /** Page size ListExecutions uses when the request names none (small, to exercise paging). */
  readonly executionsPageSize?: number;
  /**
   * Runs revisions and serves their URLs (the rehearsal's Cloud Run
   * simulator, test/support/rehearsal/cloud-run-simulator.ts); reconciliation
   * then waits for the host's containers. Without one, nothing runs.
   */
  readonly revisionHost?: RevisionHost;
}

export class CloudRunFake {
  private readonly calls = new RecordedCalls();
  /** Every request, in arrival order, exactly as it arrived. */
  readonly requests: RecordedRequest[] = this.calls.requests;
  readonly project: string;
  readonly region: string;
  port = 0;
  private readonly server = new grpc.Server();
  private readonly anyRoot: protobuf.Root;
  private readonly services: FakeServices;
  private readonly jobs: FakeJobs;
  private readonly operations: FakeOperations;
  private readonly iamPolicies = new Map<string, unknown>();
  /** One sequence for every generated id (uids, etags, operation and execution names). */
  private counter = 0;

  constructor(options: CloudRunFakeOptions = {}) {
    this.project = options.project ?? 'test-project';
    this.region = options.region ?? 'us-central1';
    const root = loadGrpcPackage(RUN_PACKAGE, PROTO_FILES, { wireOnly: true });
    this.anyRoot = protobufRoot(RUN_PACKAGE, PROTO_FILES.slice(0, 3));
    const next = () => ++this.counter;
    const pack = (type: 'Service' | 'Execution', value: object) =>
      packAny(this.anyRoot, `google.cloud.run.v2.${type}`, value as Record<string, unknown>);
    this.services = new FakeServices(this.parent(), next, pack, options.revisionHost);
    this.jobs = new FakeJobs(next, pack, options.executionsPageSize ?? 2);
    this.operations = new FakeOperations(this.parent(), next, options.pendingPolls ?? 1);
    this.server.addService(serviceDefinition(root, 'google.cloud.run.v2.Services'), {
      GetService: this.calls.unary('GetService', (r: { name?: string }) => this.getService(r)),
      CreateService: this.calls.unary('CreateService', (r: CreateServiceRequestWire) => {
        const accepted = this.services.create(r);
        return this.operations.start(undefined, accepted.service, accepted.finish);
      }),
      UpdateService: this.calls.unary('UpdateService', (r: UpdateServiceRequestWire) => {
        const accepted = this.services.update(r);
        return this.operations.start(undefined, accepted.service, accepted.finish);
      }),
      GetIamPolicy: this.calls.unary('GetIamPolicy', (r: { resource?: string }) => ({
        ...(this.iamPolicies.get(r.resource ?? '') ?? { bindings: [] }),
      })),
      SetIamPolicy: this.calls.unary(
        'SetIamPolicy',
        (r: { resource?: string; policy?: unknown }) => {
          checkSetIamPolicy(r.resource ?? '', this.services.deniedPermissions);
          this.iamPolicies.set(r.resource ?? '', r.policy ?? {});
          return r.policy ?? {};
        },
      ),
    });
    this.server.addService(serviceDefinition(root, 'google.cloud.run.v2.Jobs'), {
      RunJob: this.calls.unary('RunJob', (r: RunJobRequestWire) => {
        const started = this.jobs.runJob(r);
        return this.operations.start(started.metadata, undefined, started.finish);
      }),
    });
    this.server.addService(serviceDefinition(root, 'google.cloud.run.v2.Executions'), {
      ListExecutions: this.calls.unary(
        'ListExecutions',
        (r: { parent?: string; pageSize?: number; pageToken?: string }) =>
          this.jobs.listExecutions(r),
      ),
      GetExecution: this.calls.unary('GetExecution', (r: { name?: string }) =>
        this.jobs.getExecution(r.name ?? ''),
      ),
    });
    this.server.addService(serviceDefinition(root, 'google.longrunning.Operations'), {
      GetOperation: this.calls.unary('GetOperation', (r: { name?: string }) =>
        this.operations.get(r.name ?? ''),
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
    return this.services.serviceName(id);
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
    this.calls.failNext(method, code, details, afterApplying);
  }

  /** Runs `hook` when the next call of `method` arrives, before it is served. */
  beforeNext(method: string, hook: () => void): void {
    this.calls.beforeNext(method, hook);
  }

  /**
   * Makes revision `revision` (short name) fail to start, `reason` being
   * what Cloud Run says after "Revision '…' is not ready and cannot serve
   * traffic." (e.g. "The user-provided container failed the configured
   * startup probe checks.").
   */
  failRevision(revision: string, reason: string): void {
    this.services.failRevision(revision, reason);
  }

  /**
   * The caller lacks `permission` from now on (e.g. 'run.services.setIamPolicy',
   * as the deploy identity does): the writes that need it are refused with
   * PERMISSION_DENIED (cloud-run-fake-service-rules.ts).
   */
  denyPermission(permission: string): void {
    this.services.deniedPermissions.add(permission);
  }

  /** The caller has `permission` again (another identity calls, e.g. the verify function). */
  allowPermission(permission: string): void {
    this.services.deniedPermissions.delete(permission);
  }

  /** The template revision `revision` (short name) was created with, or undefined. */
  revisionTemplate(revision: string): RevisionTemplateWire | undefined {
    return this.services.revisionTemplate(revision);
  }

  /** Keeps every operation pending (a reconciliation that never ends). */
  holdOperations(): void {
    this.operations.hold();
  }

  /** The stored service (a copy), or undefined. */
  service(id: string): ServiceWire | undefined {
    return this.services.copy(id);
  }

  /** Another writer changed the service: its generation and etag move on. */
  touchService(id: string, annotations: Record<string, string>): void {
    this.services.touch(id, annotations);
  }

  registerJob(name: string, env: EnvVarWire[] = []): void {
    this.jobs.registerJob(name, env);
  }

  execution(name: string): ExecutionWire | undefined {
    return this.jobs.execution(name);
  }

  /** Every execution, oldest first. */
  allExecutions(): readonly ExecutionWire[] {
    return this.jobs.allExecutions();
  }

  /** Sets an execution's task counts and conditions the way Cloud Run reports progress. */
  setExecutionOutcome(
    name: string,
    outcome: 'running' | 'succeeded' | 'failed' | 'cancelled',
    message = '',
  ): void {
    this.jobs.setExecutionOutcome(name, outcome, message);
  }

  // --- Services

  /** A read observes the service's pending operations: Cloud Run reconciles whether or not anyone polls. */
  private getService(request: { name?: string }): ServiceWire {
    const service = this.services.get(request.name ?? '');
    this.operations.observeService(service.name ?? '');
    return service;
  }

  private parent(): string {
    return `projects/${this.project}/locations/${this.region}`;
  }
}
