/**
 * Wire shapes of the Cloud Run Admin API v2 messages the fake reads and
 * answers (proto-loader objects: camelCase, no defaults, enums as names), and
 * proto3 equality of two such messages. Only the fields the fake uses are
 * typed.
 */

import * as grpc from '@grpc/grpc-js';
import { serviceError } from './grpc-fake-server.js';

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
export interface OperationWire {
  name: string;
  done: boolean;
  metadata?: { typeUrl: string; value: Buffer };
  response?: { typeUrl: string; value: Buffer };
  error?: { code: number; message: string };
}

/**
 * What runs revisions and serves URLs when the fake is given one (the
 * rehearsal's Cloud Run simulator, test/support/rehearsal/). Without it the
 * fake starts nothing, every revision is ready at once and URLs are fake
 * strings nothing answers at.
 */
export interface RevisionHost {
  /** A revision was created: called once per revision name. */
  start(serviceId: string, revision: string, template: RevisionTemplateWire): void;
  /** A reconciliation that needs the revision waits while it is 'starting'. */
  state(revision: string): 'starting' | 'ready' | { readonly failed: string };
  /** The service's URL and its tags' URLs; undefined while they are being set up (the reconciliation waits). */
  urls(serviceId: string, tags: readonly string[]): ServiceUrls | undefined;
  /** A reconciliation ended: what the service now serves, and who may call it. */
  route(serviceId: string, serving: ServingState): void;
}
export interface ServiceUrls {
  readonly service: string;
  readonly tags: Readonly<Record<string, string>>;
}
export interface ServingState {
  /** Short name: where a LATEST traffic target goes; '' before any revision was ready. */
  readonly latestReadyRevision: string;
  readonly invokerIamDisabled: boolean;
  readonly trafficStatuses: readonly TrafficStatusWire[];
  readonly customAudiences: readonly string[];
}

/** How a long-running operation ended: a packed response or an error. */
export type OperationOutcome = Pick<OperationWire, 'response' | 'error'>;

/** Packs a message into an Any, as the real API puts it in an Operation. */
export type Pack = (
  type: 'Service' | 'Execution',
  value: object,
) => { typeUrl: string; value: Buffer };

/**
 * Proto3 equality as JSON: object keys sorted (maps are unordered on the
 * wire, lists are not) and default values dropped. protobufjs puts a field on
 * the wire whenever the sender's object has it, so a template read back (with
 * defaults) and sent again carries `''`, `0` and `false` the first request
 * left out; the server cannot tell those from absent fields.
 */
export function canonicalJson(value: unknown): string {
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

/** Cloud Run's answer for a resource that does not exist. */
export function notFound(name: string): grpc.ServiceError {
  return serviceError(grpc.status.NOT_FOUND, `Resource '${name}' was not found`);
}
