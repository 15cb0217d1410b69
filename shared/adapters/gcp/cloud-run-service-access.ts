/**
 * Reads and writes of one Cloud Run service for CloudRunPlatform: every write
 * is read → plan → update with the read `etag`, so a concurrent change is
 * refused instead of overwritten; the client does not retry create/update
 * calls itself, so this does, re-reading first (an ambiguous failure may have
 * taken effect). Plans are made from a service that has stopped reconciling,
 * because only then is its observed state final (service.proto, `reconciling`:
 * while it is true, `latest_ready_revision`, `traffic_statuses` … "will have
 * transient values that might mismatch the intended state").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServicesClient } from '@google-cloud/run';
import { PermanentError, TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import { GRPC, grpcCodeOf, isAmbiguous, isNotFound, toApiError } from './google-api-errors.js';
import type { ServiceMessage } from './cloud-run-service-spec.js';

type ServicesClientOptions = NonNullable<ConstructorParameters<typeof ServicesClient>[0]>;

export interface ServiceAccessOptions {
  readonly projectId: string;
  readonly region: string;
  readonly logger: Logger;
  readonly clientOptions?: ServicesClientOptions;
  readonly pollIntervalMs: number;
}

/** Read-modify-write attempts before an etag conflict is reported as transient. */
const MAX_WRITE_ATTEMPTS = 4;

export type Write =
  | { readonly kind: 'create'; readonly serviceId: string; readonly service: ServiceMessage }
  | { readonly kind: 'update'; readonly service: ServiceMessage };

/** The part of a gax long-running operation this module uses. */
interface PendingOperation {
  promise(): Promise<unknown>;
}

/** How a write ended: `operationError` is what the long-running operation failed with, if it did. */
export interface WriteOutcome {
  readonly wrote: boolean;
  readonly operationError?: unknown;
}

export class ServiceAccess {
  private readonly options: ServiceAccessOptions;
  private client: Promise<ServicesClient> | undefined;

  constructor(options: ServiceAccessOptions) {
    this.options = options;
  }

  serviceName(service: string): string {
    return `${this.parent()}/services/${service}`;
  }

  /** The service as it is now (possibly mid-reconciliation), or undefined when it does not exist. */
  async read(name: string): Promise<ServiceMessage | undefined> {
    try {
      const [service] = await (await this.services()).getService({ name });
      return service;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toApiError(error, callContext('getService'));
    }
  }

  /** The service once it has stopped reconciling (its serving state is then final). */
  async readSettled(name: string, deadline: number): Promise<ServiceMessage | undefined> {
    for (;;) {
      const service = await this.read(name);
      if (service === undefined || !service.reconciling) return service;
      if (Date.now() + this.options.pollIntervalMs > deadline) {
        throw new TransientError(
          'DEPENDENCY.UNAVAILABLE',
          `Cloud Run service ${name} still reconciling when the call's wait ran out (${new Date(deadline).toISOString()})`,
          { metadata: { service: name, deadline: new Date(deadline).toISOString() } },
        );
      }
      await sleep(this.options.pollIntervalMs);
    }
  }

  /** As readSettled, for a service that must exist (one this call just wrote). */
  async waitUntilReconciled(name: string, deadline: number): Promise<ServiceMessage> {
    const service = await this.readSettled(name, deadline);
    if (service === undefined) {
      throw new TransientError('PLATFORM.CONFLICT', `Cloud Run service ${name} disappeared`);
    }
    return service;
  }

  /**
   * Read → plan → write, again after an etag conflict or an ambiguous
   * failure (re-reading shows whether the write happened: the plan then
   * returns undefined). Waits for the operation, bounded by `deadline`.
   */
  async write(
    name: string,
    call: string,
    deadline: number,
    plan: (current: ServiceMessage | undefined) => Write | undefined,
  ): Promise<WriteOutcome> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const write = plan(await this.readSettled(name, deadline));
      if (write === undefined) return { wrote: false };
      let operation: PendingOperation;
      try {
        operation = await this.send(write, deadline);
      } catch (error) {
        if (!isRetryableWriteError(error, write.kind)) throw writeError(error, call);
        lastError = error;
        this.options.logger.warn(`Cloud Run ${call} write failed; re-reading the service`, {
          service: name,
          attempt,
          grpcCode: grpcCodeOf(error) ?? null,
        });
        continue;
      }
      try {
        await operation.promise();
        return { wrote: true };
      } catch (operationError) {
        return { wrote: true, operationError };
      }
    }
    if (isAmbiguous(lastError)) throw toApiError(lastError, callContext(call));
    throw new TransientError(
      'PLATFORM.CONFLICT',
      `Cloud Run ${call} of ${name} still conflicted after ${MAX_WRITE_ATTEMPTS} attempts: ${messageOf(lastError)}`,
      { cause: lastError, metadata: { service: name, attempts: MAX_WRITE_ATTEMPTS } },
    );
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await (await client).close();
  }

  private async send(write: Write, deadline: number): Promise<PendingOperation> {
    const client = await this.services();
    const options = { longrunning: this.pollingUntil(deadline) };
    if (write.kind === 'create') {
      const request = { parent: this.parent(), serviceId: write.serviceId, service: write.service };
      const [operation] = await client.createService(request, options);
      return operation;
    }
    const [operation] = await client.updateService({ service: write.service }, options);
    return operation;
  }

  /** Operation polling that gives up at `deadline` (gax otherwise polls without end). */
  private pollingUntil(deadline: number) {
    const { pollIntervalMs } = this.options;
    return {
      initialRetryDelayMillis: Math.min(pollIntervalMs, 1_000),
      retryDelayMultiplier: 1.5,
      maxRetryDelayMillis: pollIntervalMs,
      totalTimeoutMillis: Math.max(1, deadline - Date.now()),
    };
  }

  private parent(): string {
    return `projects/${this.options.projectId}/locations/${this.options.region}`;
  }

  private services(): Promise<ServicesClient> {
    this.client ??= this.createClient();
    return this.client;
  }

  private async createClient(): Promise<ServicesClient> {
    const { ServicesClient } = await import('@google-cloud/run');
    return new ServicesClient({ projectId: this.options.projectId, ...this.options.clientOptions });
  }
}

/** How toApiError names and classifies a failed Cloud Run call. */
export function callContext(call: string) {
  return {
    call: `Cloud Run ${call}`,
    rejected: 'PLATFORM.REJECTED',
    conflict: 'PLATFORM.CONFLICT',
  } as const;
}

/**
 * Etag conflicts (ABORTED, FAILED_PRECONDITION) and ambiguous failures are
 * retried after a re-read; so is ALREADY_EXISTS on create (someone created the
 * service meanwhile). A revision name reused with a different template is not.
 */
function isRetryableWriteError(error: unknown, kind: Write['kind']): boolean {
  if (isDifferentConfiguration(error)) return false;
  const code = grpcCodeOf(error);
  if (code === GRPC.ABORTED || code === GRPC.FAILED_PRECONDITION) return true;
  if (code === GRPC.ALREADY_EXISTS) return kind === 'create';
  return isAmbiguous(error);
}

/**
 * A refused write. "Different configuration" under an existing revision
 * name is final whatever its code (the same revision name was asked for
 * with two templates); everything else follows toApiError.
 */
function writeError(error: unknown, call: string): Error {
  if (!isDifferentConfiguration(error)) return toApiError(error, callContext(call));
  return new PermanentError('PLATFORM.REJECTED', `Cloud Run ${call} failed: ${messageOf(error)}`, {
    cause: error,
    metadata: { grpcCode: grpcCodeOf(error) ?? null, call: `Cloud Run ${call}` },
  });
}

/**
 * Why a traffic change (promote, rollback, split) did not reconcile. Traffic
 * naming a revision that does not exist is accepted, and its reconciliation
 * fails with code 13 "Revision '…' does not exist or is deleted. Update all
 * traffic to route to currently available revisions."
 * (terraform-google-modules/terraform-docs-samples#269): INTERNAL by its code,
 * but final, so it is refused for good. Anything else follows toApiError (a
 * revision that is not ready: FAILED_PRECONDITION, a conflict).
 */
export function trafficChangeError(operationError: unknown, call: string): Error {
  if (!isMissingRevision(operationError)) return toApiError(operationError, callContext(call));
  return new PermanentError(
    'PLATFORM.REJECTED',
    `Cloud Run ${call} failed: ${messageOf(operationError)}`,
    {
      cause: operationError,
      metadata: { grpcCode: grpcCodeOf(operationError) ?? null, call: `Cloud Run ${call}` },
    },
  );
}

function isMissingRevision(error: unknown): boolean {
  return /Revision '[^']*' does not exist or is deleted/.test(messageOf(error));
}

/** Cloud Run's refusal of a named revision whose template differs from the existing one. */
function isDifferentConfiguration(error: unknown): boolean {
  return /with different configuration already exists/i.test(messageOf(error));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A deploy whose revision is neither created nor routed once the service settled. */
export function lostWrite(operationError: unknown, name: string, revision: string): Error {
  if (operationError !== undefined) {
    return toApiError(operationError, callContext('deployRevision'));
  }
  return new TransientError(
    'PLATFORM.CONFLICT',
    `revision ${revision} is neither created nor routed on Cloud Run service ${name}: another writer replaced it`,
    { metadata: { service: name, revision } },
  );
}

/** The refusal of a call on a service that does not exist. */
export function missingService(service: string, action: string): PermanentError {
  return new PermanentError(
    'PLATFORM.NOT_FOUND',
    `cannot ${action}: Cloud Run service ${service} does not exist`,
    { metadata: { service } },
  );
}
