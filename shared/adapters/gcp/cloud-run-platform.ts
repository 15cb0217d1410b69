/**
 * ServingPlatform over the Cloud Run Admin API v2 (`@google-cloud/run`
 * ServicesClient). What serves is read from what Cloud Run observes
 * (`trafficStatuses`, `latestReadyRevision`), never from the desired
 * `traffic` alone: after a failed reconciliation the desired list still names
 * the revision that failed (cloud-run-traffic.ts). Reads, etag-guarded writes
 * and waiting for reconciliation are in cloud-run-service-access.ts.
 */
import type { ServicesClient } from '@google-cloud/run';
import { PermanentError, TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type {
  DeployedRevision,
  RevisionSpec,
  ServiceTraffic,
  TrafficShare,
  ServingPlatform,
} from '../../ports/serving-platform.port.js';
import { toApiError } from './google-api-errors.js';
import {
  ServiceAccess,
  callContext,
  lostWrite,
  missingService,
  trafficChangeError,
} from './cloud-run-service-access.js';
import {
  PREVIOUS_REVISION_ANNOTATION,
  buildServiceFields,
  currentLiveRevision,
  describeServing,
  describeSplit,
  exposureAtPromote,
  hasSplit,
  hasTaggedTarget,
  holdsAllTraffic,
  readServiceTraffic,
  revisionOutcome,
  servesSplit,
  splitProblem,
  trafficForNewRevision,
  trafficForPromote,
  trafficForSplit,
  trafficWithout,
} from './cloud-run-service-spec.js';
import { CLOUD_RUN_READY_TIMEOUT_MS, CLOUD_RUN_TRAFFIC_TIMEOUT_MS } from './cloud-run-timeouts.js';

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
   * How long a deploy waits for Cloud Run to finish reconciling; default
   * CLOUD_RUN_READY_TIMEOUT_MS. Past it the call fails with a TransientError
   * and the retried delivery picks up where it left off.
   */
  readonly readyTimeoutMs?: number;
  /** The same for a traffic-only write (promote, rollback, split, discard); default CLOUD_RUN_TRAFFIC_TIMEOUT_MS. */
  readonly trafficTimeoutMs?: number;
}

export class CloudRunPlatform implements ServingPlatform {
  private readonly options: CloudRunPlatformOptions;
  private readonly logger: Logger;
  private readonly readyTimeoutMs: number;
  private readonly trafficTimeoutMs: number;
  private readonly access: ServiceAccess;

  constructor(options: CloudRunPlatformOptions) {
    this.options = options;
    this.logger = options.logger;
    this.readyTimeoutMs = options.readyTimeoutMs ?? CLOUD_RUN_READY_TIMEOUT_MS;
    this.trafficTimeoutMs = options.trafficTimeoutMs ?? CLOUD_RUN_TRAFFIC_TIMEOUT_MS;
    this.access = new ServiceAccess({
      projectId: options.projectId,
      region: options.region,
      logger: options.logger,
      ...(options.clientOptions !== undefined && { clientOptions: options.clientOptions }),
      pollIntervalMs: options.pollIntervalMs ?? 2_000,
    });
  }

  async deployRevision(spec: RevisionSpec): Promise<DeployedRevision> {
    const log = this.logger.child({ service: spec.service, revision: spec.revision });
    const name = this.access.serviceName(spec.service);
    const deadline = Date.now() + this.readyTimeoutMs;
    const settings = { serviceAccount: this.options.serviceAccount };
    const { operationError } = await this.access.write(
      name,
      'deployRevision',
      deadline,
      (current) => {
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
        const traffic = trafficForNewRevision(current, spec);
        const percent = traffic.find((t) => t.revision === spec.revision)?.percent ?? 0;
        // 100% only when nothing serves (a service whose revisions all failed).
        log.info(`adding revision with ${percent}% traffic`, { tag: spec.tag });
        // The whole service as read (etag included) with our changes: an
        // update without a mask replaces the service, so fields recdeploy does
        // not manage must go back as they were; output-only ones are ignored.
        return {
          kind: 'update',
          service: { ...current, ...buildServiceFields(spec, settings, current), traffic },
        };
      },
    );
    const service = await this.access.waitUntilReconciled(name, deadline);
    const outcome = revisionOutcome(service, spec.revision);
    if (outcome.state === 'failed') {
      throw new PermanentError(
        'PLATFORM.REVISION_FAILED',
        `Cloud Run revision ${spec.revision} of service ${spec.service} failed: ${outcome.reason}`,
        { metadata: { service: spec.service, revision: spec.revision } },
      );
    }
    if (outcome.state === 'absent') throw lostWrite(operationError, name, spec.revision);
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

  async splitTraffic(service: string, split: readonly TrafficShare[]): Promise<ServiceTraffic> {
    const problem = splitProblem(split);
    if (problem !== undefined) {
      throw new PermanentError(
        'PLATFORM.REJECTED',
        `refusing to split the traffic of Cloud Run service ${service}: ${problem}`,
        { metadata: { service } },
      );
    }
    const log = this.logger.child({ service });
    const name = this.access.serviceName(service);
    const deadline = Date.now() + this.trafficTimeoutMs;
    const wanted = describeSplit(split);
    const { operationError } = await this.access.write(
      name,
      'splitTraffic',
      deadline,
      (current) => {
        if (current === undefined) throw missingService(service, 'split traffic');
        if (hasSplit(current, split)) {
          log.info('traffic already split this way; nothing to send', { split: wanted });
          return undefined;
        }
        log.info('splitting traffic', { split: wanted });
        // Traffic only: the template goes back as read, so no revision is created.
        return {
          kind: 'update',
          service: { ...current, traffic: trafficForSplit(current, split) },
        };
      },
    );
    const settled = await this.access.waitUntilReconciled(name, deadline);
    if (servesSplit(settled, split)) return readServiceTraffic(settled);
    if (operationError !== undefined) throw trafficChangeError(operationError, 'splitTraffic');
    throw new TransientError(
      'PLATFORM.CONFLICT',
      `after splitTraffic, Cloud Run service ${service} serves ${describeServing(settled)} instead of ${wanted}`,
      { metadata: { service } },
    );
  }

  promote(service: string, revision: string): Promise<ServiceTraffic> {
    return this.moveAllTraffic(service, revision, 'promote');
  }

  async rollback(service: string, toRevision?: string): Promise<ServiceTraffic> {
    const current = await this.access.read(this.access.serviceName(service));
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
    const name = this.access.serviceName(service);
    const deadline = Date.now() + this.trafficTimeoutMs;
    const { wrote, operationError } = await this.access.write(
      name,
      'discardRevision',
      deadline,
      (current) => {
        const plan = current && trafficWithout(current, revision);
        if (!current || !plan) return undefined;
        // What it really serves, not what the desired traffic gave it: a
        // revision that failed to start serves nothing whatever it was given.
        if (plan.servingPercent > 0) {
          throw new PermanentError(
            'PLATFORM.REJECTED',
            `refusing to discard revision ${revision} of Cloud Run service ${service}: it has ${plan.servingPercent}% of traffic`,
            { metadata: { service, revision, percent: plan.servingPercent } },
          );
        }
        return { kind: 'update', service: { ...current, traffic: plan.traffic } };
      },
    );
    // The tag is gone from the desired traffic once the update is accepted;
    // how reconciliation ends concerns the revisions that stay.
    if (operationError !== undefined) {
      log.warn('traffic update after discarding a revision did not reconcile cleanly', {
        error: toApiError(operationError, callContext('discardRevision')).message,
      });
    }
    if (wrote) log.info('revision discarded (tag and 0% target removed)');
  }

  async describe(service: string): Promise<ServiceTraffic | undefined> {
    const current = await this.access.read(this.access.serviceName(service));
    // ID tokens for the service name its custom audience when it has one (id-token-headers.ts).
    const audience = current?.customAudiences?.[0];
    return (
      current && { ...readServiceTraffic(current), ...(audience && { idTokenAudience: audience }) }
    );
  }

  close(): Promise<void> {
    return this.access.close();
  }

  /** Sends all traffic to `revision` and remembers the revision it replaces. */
  private async moveAllTraffic(
    service: string,
    revision: string,
    call: 'promote' | 'rollback',
  ): Promise<ServiceTraffic> {
    const log = this.logger.child({ service, revision });
    const name = this.access.serviceName(service);
    const deadline = Date.now() + this.trafficTimeoutMs;
    const { operationError } = await this.access.write(name, call, deadline, (current) => {
      if (current === undefined) throw missingService(service, call);
      // A verified revision whose run asked for a public (or private) service
      // makes it so now (buildServiceFields says why not at deploy).
      const invokerIamDisabled = exposureAtPromote(current, revision);
      const exposure = invokerIamDisabled === undefined ? {} : { invokerIamDisabled };
      if (holdsAllTraffic(current, revision)) {
        if (invokerIamDisabled === undefined) {
          log.info(`revision already has all traffic; nothing to ${call}`);
          return undefined;
        }
        log.info(`${call}: revision already has all traffic; setting the invoker check`, exposure);
        return { kind: 'update', service: { ...current, ...exposure } };
      }
      // The revision that really serves (during a split, the largest other
      // share: the canary's stable one), which is what a rollback returns to.
      const replaced = currentLiveRevision(current, revision);
      log.info(`${call}: moving 100% of traffic`, { from: replaced ?? null, ...exposure });
      const annotations = { ...current.annotations };
      if (replaced !== undefined) annotations[PREVIOUS_REVISION_ANNOTATION] = replaced;
      return {
        kind: 'update',
        service: {
          ...current,
          ...exposure,
          annotations,
          traffic: trafficForPromote(current, revision),
        },
      };
    });
    const settled = await this.access.waitUntilReconciled(name, deadline);
    const traffic = readServiceTraffic(settled);
    if (traffic.liveRevision === revision) return traffic;
    if (operationError !== undefined) throw trafficChangeError(operationError, call);
    throw new TransientError(
      'PLATFORM.CONFLICT',
      `after ${call}, Cloud Run service ${service} serves ${describeServing(settled)} instead of ${revision}`,
      { metadata: { service, revision } },
    );
  }
}
