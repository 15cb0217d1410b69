/**
 * ServingPlatform over the Cloud Run Admin API v2 (`@google-cloud/run`
 * ServicesClient). Every write is read → modify → update with the read
 * `etag`, so a concurrent change is refused instead of overwritten; the
 * client does not retry create/update calls itself, so this adapter does,
 * re-reading first (an ambiguous failure may have taken effect).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServicesClient } from '@google-cloud/run';
import { PermanentError, TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type {
  DeployedRevision,
  RevisionSpec,
  ServiceTraffic,
  ServingPlatform,
} from '../../ports/serving-platform.port.js';
import { GRPC, grpcCodeOf, isAmbiguous, isNotFound, toApiError } from './google-api-errors.js';
import {
  PREVIOUS_REVISION_ANNOTATION,
  buildServiceFields,
  currentLiveRevision,
  hasTaggedTarget,
  holdsAllTraffic,
  readServiceTraffic,
  revisionOutcome,
  trafficForNewRevision,
  trafficForPromote,
  trafficWithout,
  type ServiceMessage,
} from './cloud-run-service-spec.js';

type ServicesClientOptions = NonNullable<ConstructorParameters<typeof ServicesClient>[0]>;

export interface CloudRunPlatformOptions {
  readonly projectId: string;
  readonly region: string;
  readonly logger: Logger;
  /** Service account revisions run as; the project's default compute account when absent. */
  readonly serviceAccount?: string;
  /** Passed to `new ServicesClient()` (tests point it at a local fake). */
  readonly clientOptions?: ServicesClientOptions;
  /** Pause between reads while a service reconciles; default 2 000 ms. */
  readonly pollIntervalMs?: number;
  /**
   * How long one call waits for Cloud Run to finish reconciling; default
   * 300 000 ms (the startup probe alone allows 240 s for a model to load).
   * Past it the call fails with a TransientError and the retried delivery
   * picks up where it left off.
   */
  readonly readyTimeoutMs?: number;
}

/** Read-modify-write attempts before an etag conflict is reported as transient. */
const MAX_WRITE_ATTEMPTS = 4;

type Write =
  | { readonly kind: 'create'; readonly serviceId: string; readonly service: ServiceMessage }
  | { readonly kind: 'update'; readonly service: ServiceMessage };

/** The part of a gax long-running operation this adapter uses. */
interface PendingOperation {
  promise(): Promise<unknown>;
}

/** How a write ended: `operationError` is what the long-running operation failed with, if it did. */
interface WriteOutcome {
  readonly wrote: boolean;
  readonly operationError?: unknown;
}

export class CloudRunPlatform implements ServingPlatform {
  private readonly options: CloudRunPlatformOptions;
  private readonly logger: Logger;
  private readonly pollIntervalMs: number;
  private readonly readyTimeoutMs: number;
  private client: Promise<ServicesClient> | undefined;

  constructor(options: CloudRunPlatformOptions) {
    this.options = options;
    this.logger = options.logger;
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 300_000;
  }

  async deployRevision(spec: RevisionSpec): Promise<DeployedRevision> {
    const log = this.logger.child({ service: spec.service, revision: spec.revision });
    const name = this.serviceName(spec.service);
    const deadline = Date.now() + this.readyTimeoutMs;
    const settings = { serviceAccount: this.options.serviceAccount };
    const { operationError } = await this.write(name, 'deployRevision', deadline, (current) => {
      if (current === undefined) {
        log.info('creating Cloud Run service with the first revision');
        const service = buildServiceFields(spec, settings);
        return {
          kind: 'create',
          serviceId: spec.service,
          service: { ...service, traffic: trafficForNewRevision(undefined, spec) },
        };
      }
      // Same revision under the same tag: a retry of a deploy that already happened.
      if (hasTaggedTarget(current, spec.revision, spec.tag)) {
        log.info('revision already on the service; not updating it again');
        return undefined;
      }
      log.info('adding revision with 0% traffic', { tag: spec.tag });
      // The whole service as read (etag included) with our changes: an
      // update without a mask replaces the service, so fields recdeploy does
      // not manage must go back as they were; output-only ones are ignored.
      return {
        kind: 'update',
        service: {
          ...current,
          ...buildServiceFields(spec, settings, current),
          traffic: trafficForNewRevision(current, spec),
        },
      };
    });
    const service = await this.waitUntilReconciled(name, deadline);
    const outcome = revisionOutcome(service, spec.revision);
    if (outcome.state === 'failed') {
      throw new PermanentError(
        'PLATFORM.REVISION_FAILED',
        `Cloud Run revision ${spec.revision} of service ${spec.service} failed: ${outcome.reason}`,
        { metadata: { service: spec.service, revision: spec.revision } },
      );
    }
    if (outcome.state === 'absent') throw this.lostWrite(operationError, name, spec.revision);
    const traffic = readServiceTraffic(service);
    const tagged = traffic.targets.find((t) => t.revision === spec.revision && t.tag === spec.tag);
    if (tagged?.url === undefined) {
      throw new TransientError(
        'PLATFORM.CONFLICT',
        `Cloud Run service ${spec.service} reports no URL for tag ${spec.tag} of revision ${spec.revision}`,
        { metadata: { service: spec.service, revision: spec.revision } },
      );
    }
    log.info('revision ready', { tagUrl: tagged.url });
    return {
      service: spec.service,
      revision: spec.revision,
      tagUrl: tagged.url,
      serviceUrl: traffic.serviceUrl,
    };
  }

  promote(service: string, revision: string): Promise<ServiceTraffic> {
    return this.moveAllTraffic(service, revision, 'promote');
  }

  async rollback(service: string, toRevision?: string): Promise<ServiceTraffic> {
    const current = await this.read(this.serviceName(service));
    if (current === undefined) throw missingService(service, 'roll back');
    const target = toRevision ?? current.annotations?.[PREVIOUS_REVISION_ANNOTATION];
    if (!target) {
      throw new PermanentError(
        'PLATFORM.NOT_FOUND',
        `nothing to roll back to: Cloud Run service ${service} has no ${PREVIOUS_REVISION_ANNOTATION} annotation and no revision was named`,
        { metadata: { service } },
      );
    }
    return this.moveAllTraffic(service, target, 'rollback');
  }

  async discardRevision(service: string, revision: string): Promise<void> {
    const log = this.logger.child({ service, revision });
    const name = this.serviceName(service);
    const deadline = Date.now() + this.readyTimeoutMs;
    const { wrote, operationError } = await this.write(
      name,
      'discardRevision',
      deadline,
      (current) => {
        const plan = current && trafficWithout(current, revision);
        if (!current || !plan) return undefined;
        const serving = plan.removed.find((t) => t.percent > 0);
        if (serving) {
          throw new PermanentError(
            'PLATFORM.REJECTED',
            `refusing to discard revision ${revision} of Cloud Run service ${service}: it has ${serving.percent}% of traffic`,
            { metadata: { service, revision, percent: serving.percent } },
          );
        }
        return { kind: 'update', service: { ...current, traffic: plan.traffic } };
      },
    );
    // The tag is gone from the desired traffic once the update is accepted;
    // how reconciliation ends concerns the revisions that stay.
    if (operationError !== undefined) {
      log.warn('traffic update after discarding a revision did not reconcile cleanly', {
        error: toApiError(operationError, this.context('discardRevision')).message,
      });
    }
    if (wrote) log.info('revision discarded (tag and 0% target removed)');
  }

  async describe(service: string): Promise<ServiceTraffic | undefined> {
    const current = await this.read(this.serviceName(service));
    return current && readServiceTraffic(current);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await (await client).close();
  }

  /** Sends all traffic to `revision` and remembers the revision it replaces. */
  private async moveAllTraffic(
    service: string,
    revision: string,
    call: 'promote' | 'rollback',
  ): Promise<ServiceTraffic> {
    const log = this.logger.child({ service, revision });
    const name = this.serviceName(service);
    const deadline = Date.now() + this.readyTimeoutMs;
    const { operationError } = await this.write(name, call, deadline, (current) => {
      if (current === undefined) throw missingService(service, call);
      if (holdsAllTraffic(current, revision)) {
        log.info(`revision already has all traffic; nothing to ${call}`);
        return undefined;
      }
      const replaced = currentLiveRevision(current);
      log.info(`${call}: moving 100% of traffic`, { from: replaced ?? null });
      const annotations = { ...current.annotations };
      if (replaced !== undefined && replaced !== revision) {
        annotations[PREVIOUS_REVISION_ANNOTATION] = replaced;
      }
      return {
        kind: 'update',
        service: { ...current, annotations, traffic: trafficForPromote(current, revision) },
      };
    });
    const traffic = readServiceTraffic(await this.waitUntilReconciled(name, deadline));
    if (traffic.liveRevision === revision) return traffic;
    if (operationError !== undefined) throw toApiError(operationError, this.context(call));
    throw new TransientError(
      'PLATFORM.CONFLICT',
      `after ${call}, Cloud Run service ${service} serves ${traffic.liveRevision ?? 'a traffic split'} instead of ${revision}`,
      { metadata: { service, revision } },
    );
  }

  /**
   * Read → plan → write, again after an etag conflict or an ambiguous
   * failure (re-reading shows whether the write happened: the plan then
   * returns undefined). Waits for the operation, bounded by `deadline`.
   */
  private async write(
    name: string,
    call: string,
    deadline: number,
    plan: (current: ServiceMessage | undefined) => Write | undefined,
  ): Promise<WriteOutcome> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const write = plan(await this.read(name));
      if (write === undefined) return { wrote: false };
      let operation: PendingOperation;
      try {
        operation = await this.send(write, deadline);
      } catch (error) {
        if (!isRetryableWriteError(error, write.kind)) throw this.writeError(error, call);
        lastError = error;
        this.logger.warn(`Cloud Run ${call} write failed; re-reading the service`, {
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
    if (isAmbiguous(lastError)) throw toApiError(lastError, this.context(call));
    throw new TransientError(
      'PLATFORM.CONFLICT',
      `Cloud Run ${call} of ${name} still conflicted after ${MAX_WRITE_ATTEMPTS} attempts: ${messageOf(lastError)}`,
      { cause: lastError, metadata: { service: name, attempts: MAX_WRITE_ATTEMPTS } },
    );
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

  /** Reads the service until it has stopped reconciling (its serving state is then final). */
  private async waitUntilReconciled(name: string, deadline: number): Promise<ServiceMessage> {
    for (;;) {
      const service = await this.read(name);
      if (service === undefined) {
        throw new TransientError('PLATFORM.CONFLICT', `Cloud Run service ${name} disappeared`);
      }
      if (!service.reconciling) return service;
      if (Date.now() + this.pollIntervalMs > deadline) {
        throw new TransientError(
          'DEPENDENCY.UNAVAILABLE',
          `Cloud Run service ${name} still reconciling after ${this.readyTimeoutMs} ms`,
          { metadata: { service: name, readyTimeoutMs: this.readyTimeoutMs } },
        );
      }
      await sleep(this.pollIntervalMs);
    }
  }

  /**
   * A refused write. "Different configuration" under an existing revision
   * name is final whatever its code (the same revision name was asked for
   * with two templates); everything else follows toApiError.
   */
  private writeError(error: unknown, call: string): Error {
    if (!isDifferentConfiguration(error)) return toApiError(error, this.context(call));
    return new PermanentError(
      'PLATFORM.REJECTED',
      `Cloud Run ${call} failed: ${messageOf(error)}`,
      {
        cause: error,
        metadata: { grpcCode: grpcCodeOf(error) ?? null, call: `Cloud Run ${call}` },
      },
    );
  }

  private lostWrite(operationError: unknown, name: string, revision: string): Error {
    if (operationError !== undefined) {
      return toApiError(operationError, this.context('deployRevision'));
    }
    return new TransientError(
      'PLATFORM.CONFLICT',
      `revision ${revision} is neither created nor routed on Cloud Run service ${name}: another writer replaced it`,
      { metadata: { service: name, revision } },
    );
  }

  private async read(name: string): Promise<ServiceMessage | undefined> {
    try {
      const [service] = await (await this.services()).getService({ name });
      return service;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toApiError(error, this.context('getService'));
    }
  }

  /** Operation polling that gives up at `deadline` (gax otherwise polls without end). */
  private pollingUntil(deadline: number) {
    return {
      initialRetryDelayMillis: Math.min(this.pollIntervalMs, 1_000),
      retryDelayMultiplier: 1.5,
      maxRetryDelayMillis: this.pollIntervalMs,
      totalTimeoutMillis: Math.max(1, deadline - Date.now()),
    };
  }

  private context(call: string) {
    return {
      call: `Cloud Run ${call}`,
      rejected: 'PLATFORM.REJECTED',
      conflict: 'PLATFORM.CONFLICT',
    } as const;
  }

  private parent(): string {
    return `projects/${this.options.projectId}/locations/${this.options.region}`;
  }

  private serviceName(service: string): string {
    return `${this.parent()}/services/${service}`;
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

/** Cloud Run's refusal of a named revision whose template differs from the existing one. */
function isDifferentConfiguration(error: unknown): boolean {
  return /with different configuration already exists/i.test(messageOf(error));
}

function missingService(service: string, action: string): PermanentError {
  return new PermanentError(
    'PLATFORM.NOT_FOUND',
    `cannot ${action}: Cloud Run service ${service} does not exist`,
    { metadata: { service } },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
