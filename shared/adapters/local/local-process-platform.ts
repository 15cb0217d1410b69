import { isDeepStrictEqual } from 'node:util';
import { TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type {
  DeployedRevision,
  RevisionSpec,
  ServiceTraffic,
  TrafficShare,
  ServingPlatform,
} from '../../ports/serving-platform.port.js';
import { bringBackServices } from './local-platform-start.js';
import { LocalTrafficControl, mustGetRevision, mustGetService } from './local-platform-traffic.js';
import { baseUrl } from './local-revision-launcher.js';
import { revisionLogFile } from './local-revision-log.js';
import { isProcessAlive } from './local-revision-process.js';
import { RevisionSupervisor } from './local-revision-supervisor.js';
import { allocatePort } from './local-serving-ports.js';
import { LocalServiceRouters } from './local-serving-routers.js';
import {
  LocalServingState,
  type RevisionRecord,
  type ServiceRecord,
  type TrafficChange,
  type TrafficSplitChange,
} from './local-serving-state.js';
import { validateLocalRevisionSpec } from './local-serving-spec.js';
import type {
  LocalPlatformStartReport,
  LocalProcessPlatformOptions,
  LocalRevisionStatus,
} from './local-process-platform-types.js';

export type {
  LocalPlatformStartReport,
  LocalProcessPlatformOptions,
  LocalRevisionStatus,
} from './local-process-platform-types.js';

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => SILENT };

/**
 * The embedded ServingPlatform (DESIGN.md §2): each revision is a
 * services/ann-serving process on its own loopback port (its tag URL), and
 * each service has a router on a stable port (its service URL) that sends
 * each request to a revision drawn by the service's split (the live revision
 * alone outside a canary) and records what it saw per revision
 * (local-revision-metrics.ts reads it). The state lives in SQLite, so it
 * survives restarts and other processes on the same file can split, promote
 * or roll back; the router follows them at once. Unlike Cloud Run, a
 * service's first revision gets no traffic until it is promoted.
 *
 * Ownership: this instance stops, on close(), the processes it started and
 * those it adopted in start(), unless another instance has adopted them
 * since. Run one owning instance per file; other processes may use the same
 * file for splits, promote, rollback and describe.
 */
export class LocalProcessPlatform implements ServingPlatform {
  private readonly state: LocalServingState;
  private readonly logger: Logger;
  private readonly host: string;
  private readonly supervisor: RevisionSupervisor;
  private readonly routers: LocalServiceRouters;
  private readonly traffic: LocalTrafficControl;
  private readonly pending = new Set<Promise<unknown>>();
  private closing = false;

  constructor(private readonly options: LocalProcessPlatformOptions) {
    this.state = new LocalServingState(options.file);
    this.logger = options.logger ?? SILENT;
    this.host = options.host ?? '127.0.0.1';
    this.supervisor = new RevisionSupervisor({
      state: this.state,
      host: this.host,
      servingCommand: options.servingCommand,
      readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      pollIntervalMs: options.readyPollIntervalMs ?? 100,
      logger: this.logger,
      closing: () => this.closing,
    });
    this.routers = new LocalServiceRouters({
      state: this.state,
      file: options.file,
      host: this.host,
      logger: this.logger,
    });
    this.traffic = new LocalTrafficControl({
      state: this.state,
      supervisor: this.supervisor,
      host: this.host,
      logger: this.logger,
    });
  }

  /**
   * Brings back what the state says should run after a restart of the owning
   * process (local-platform-start.ts): revisions adopted or started again on
   * their ports, keeping their shares, and each service's router.
   */
  start(): Promise<LocalPlatformStartReport> {
    return this.track(() =>
      bringBackServices({
        state: this.state,
        supervisor: this.supervisor,
        routers: this.routers,
        logger: this.logger,
      }),
    );
  }

  deployRevision(spec: RevisionSpec): Promise<DeployedRevision> {
    return this.track(async () => {
      validateLocalRevisionSpec(spec);
      await this.ensureService(spec.service);
      const record = await this.ensureRevision(spec);
      await this.supervisor.ensureRunning(record, { adopt: false });
      await this.routers.ensure(spec.service);
      return this.deployed(mustGetRevision(this.state, spec.service, spec.revision));
    });
  }

  splitTraffic(service: string, split: readonly TrafficShare[]): Promise<ServiceTraffic> {
    return this.track(() => this.traffic.split(service, split));
  }

  promote(service: string, revision: string): Promise<ServiceTraffic> {
    return this.track(() => this.traffic.sendAllTo(service, revision, 'promote'));
  }

  rollback(service: string, toRevision?: string): Promise<ServiceTraffic> {
    return this.track(() =>
      this.traffic.sendAllTo(service, this.traffic.rollbackTarget(service, toRevision), 'rollback'),
    );
  }

  discardRevision(service: string, revision: string): Promise<void> {
    return this.track(async () => {
      this.traffic.refuseDiscardWithShare(service, revision);
      const record = this.state.revision(service, revision);
      if (record) await this.supervisor.stop(record);
    });
  }

  describe(service: string): Promise<ServiceTraffic | undefined> {
    return this.track(() => {
      const record = this.state.service(service);
      return Promise.resolve(record && this.traffic.describe(record));
    });
  }

  /**
   * Every change of the service's primary revision (the one with the largest
   * share: the live one outside a canary), oldest first: promotes, rollbacks,
   * and canary steps that give the canary the larger share.
   */
  trafficChanges(service: string): TrafficChange[] {
    return this.state.trafficChanges(service);
  }

  /** Every change of the service's split (canary steps, promotes, rollbacks), oldest first. */
  trafficHistory(service: string): TrafficSplitChange[] {
    return this.state.trafficHistory(service);
  }

  /** The service's revisions in deployment order, with their processes. */
  listRevisions(service: string): LocalRevisionStatus[] {
    return this.state.revisions(service).map((r) => ({
      service: r.service,
      revision: r.revision,
      runtime: r.runtime,
      state: r.state,
      port: r.port,
      tagUrl: baseUrl(this.host, r.port),
      pid: r.pid,
      running: r.pid !== undefined && isProcessAlive(r.pid),
      logFile: r.logFile,
      createdAt: r.createdAt,
    }));
  }

  /**
   * Stops the routers and every process this instance owns (SIGTERM, then
   * SIGKILL after stopTimeoutMs), leaving the state as it is, so the next
   * start() on the same file brings the revisions back.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.routers.closeAll();
    // Operations in progress notice `closing` within one poll interval.
    await Promise.allSettled([...this.pending]);
    await this.supervisor.stopOwned();
    this.state.close();
  }

  private async ensureService(name: string): Promise<ServiceRecord> {
    const existing = this.state.service(name);
    if (existing) return existing;
    return this.state.ensureService(name, await allocatePort(this.host, this.state.usedPorts()));
  }

  private async ensureRevision(spec: RevisionSpec): Promise<RevisionRecord> {
    const existing = this.state.revision(spec.service, spec.revision);
    if (existing && existing.state !== 'failed') {
      if (!isDeepStrictEqual(existing.spec, spec)) {
        this.logger.warn(
          'revision exists with a different spec; it keeps the one it was created with',
          {
            service: spec.service,
            revision: spec.revision,
          },
        );
      }
      return existing;
    }
    const port = existing?.port ?? (await allocatePort(this.host, this.state.usedPorts()));
    const logFile = revisionLogFile(this.options.logsDir, spec.service, spec.revision);
    return this.state.ensureRevision(spec, port, logFile);
  }

  private deployed(record: RevisionRecord): DeployedRevision {
    const service = mustGetService(this.state, record.service);
    return {
      service: record.service,
      revision: record.revision,
      tagUrl: baseUrl(this.host, record.port),
      serviceUrl: baseUrl(this.host, service.routerPort),
    };
  }

  /** Runs an operation unless closing, and lets close() wait for it. */
  private track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closing) {
      return Promise.reject(
        new TransientError('DEPENDENCY.UNAVAILABLE', 'the local serving platform is closed'),
      );
    }
    // Through a promise executor, so a synchronous throw becomes a rejection too.
    const running = new Promise<T>((resolve) => resolve(operation()));
    this.pending.add(running);
    void running.finally(() => this.pending.delete(running)).catch(() => undefined);
    return running;
  }
}
