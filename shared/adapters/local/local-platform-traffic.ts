import { PermanentError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type { ServiceTraffic, TrafficShare } from '../../ports/serving-platform.port.js';
import type { RevisionSupervisor } from './local-revision-supervisor.js';
import { serviceTrafficOf } from './local-serving-traffic.js';
import {
  supersededRevisions,
  type LocalServingState,
  type RevisionRecord,
  type ServiceRecord,
  type StoredShare,
  type TrafficChangeReason,
} from './local-serving-state.js';
import { checkSplit, discardRefusal, liveOrSplit, trafficMessage } from './local-traffic-checks.js';

export interface LocalTrafficControlOptions {
  readonly state: LocalServingState;
  readonly supervisor: RevisionSupervisor;
  readonly host: string;
  readonly logger: Logger;
}

/**
 * The local platform's traffic moves (splits, promotes, rollbacks) and what
 * they imply for processes: a revision is running before it gets a share,
 * and revisions a move supersedes are stopped after it. The router follows
 * the stored split on its next request.
 */
export class LocalTrafficControl {
  constructor(private readonly options: LocalTrafficControlOptions) {}

  /** A canary step: exactly `split` (see ServingPlatform.splitTraffic). */
  async split(service: string, split: readonly TrafficShare[]): Promise<ServiceTraffic> {
    const records = checkSplit(service, split, this.options.state);
    // A ready revision whose process died starts again on its port before it takes traffic.
    await Promise.all(
      records.map((record) => this.options.supervisor.ensureRunning(record, { adopt: false })),
    );
    const shares = split.map(({ revision, percent }) => ({ revision, percent }));
    return this.move(service, shares, 'split');
  }

  /** 100% to `revision`, started again first if it was stopped. */
  async sendAllTo(
    service: string,
    revision: string,
    reason: 'promote' | 'rollback',
  ): Promise<ServiceTraffic> {
    const { state, supervisor } = this.options;
    mustGetService(state, service);
    const record = mustGetRevision(state, service, revision);
    if (record.state === 'failed') {
      throw new PermanentError(
        'PLATFORM.REVISION_FAILED',
        `revision ${revision} of service ${service} failed to start (see ${record.logFile}); it cannot take traffic`,
        { metadata: { service, revision } },
      );
    }
    // A stopped revision (superseded, or the platform restarted) starts again on its port.
    await supervisor.ensureRunning(record, { adopt: false });
    return this.move(service, [{ revision, percent: 100 }], reason);
  }

  /** `toRevision`, else the previous revision; PLATFORM.NOT_FOUND when there is none. */
  rollbackTarget(service: string, toRevision?: string): string {
    const { state } = this.options;
    const target = toRevision ?? mustGetService(state, service).previousRevision;
    if (target !== undefined) return target;
    throw new PermanentError(
      'PLATFORM.NOT_FOUND',
      `service ${service} has no previous revision to roll back to (live: ${liveOrSplit(state.shares(service))})`,
      { metadata: { service } },
    );
  }

  /** Refuses (PLATFORM.REJECTED) to discard a revision that has any share. */
  refuseDiscardWithShare(service: string, revision: string): void {
    const share = this.options.state.shares(service).find((s) => s.revision === revision);
    if (share) throw discardRefusal(service, share);
  }

  describe(service: ServiceRecord): ServiceTraffic {
    const { state, host } = this.options;
    const { name } = service;
    return serviceTrafficOf(service, state.shares(name), state.revisions(name), host);
  }

  /** Stores the split (nothing when unchanged), then stops the revisions it supersedes. */
  private async move(
    service: string,
    split: readonly StoredShare[],
    reason: TrafficChangeReason,
  ): Promise<ServiceTraffic> {
    const { state, supervisor, logger } = this.options;
    const before = state.shares(service);
    const { service: after, changed } = state.setTraffic(service, split, reason);
    if (changed) {
      logger.info(trafficMessage(service, split, reason), {
        service,
        split: split.map((share) => `${share.revision}=${share.percent}`).join(','),
        replaced: liveOrSplit(before),
        primary: after.primaryRevision ?? null,
        previous: after.previousRevision ?? null,
      });
    }
    const superseded = supersededRevisions(state.revisions(service), after, state.shares(service));
    await Promise.all(superseded.map((record) => supervisor.stop(record)));
    return this.describe(after);
  }
}

export function mustGetService(state: LocalServingState, service: string): ServiceRecord {
  const record = state.service(service);
  if (record) return record;
  throw new PermanentError('PLATFORM.NOT_FOUND', `service ${service} does not exist`, {
    metadata: { service },
  });
}

export function mustGetRevision(
  state: LocalServingState,
  service: string,
  revision: string,
): RevisionRecord {
  const record = state.revision(service, revision);
  if (record) return record;
  throw new PermanentError(
    'PLATFORM.NOT_FOUND',
    `revision ${revision} of service ${service} does not exist`,
    { metadata: { service, revision } },
  );
}
