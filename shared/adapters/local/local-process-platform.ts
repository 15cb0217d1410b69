import { isDeepStrictEqual } from 'node:util';
import { PermanentError, TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type {
  DeployedRevision,
  RevisionSpec,
  ServiceTraffic,
  TrafficShare,
  ServingPlatform,
} from '../../ports/serving-platform.port.js';
import { baseUrl } from './local-revision-launcher.js';
import { serviceTrafficOf } from './local-serving-traffic.js';
import { revisionLogFile } from './local-revision-log.js';
import { isProcessAlive } from './local-revision-process.js';
import { RevisionSupervisor } from './local-revision-supervisor.js';
import { allocatePort } from './local-serving-ports.js';
import { LocalServiceRouters } from './local-serving-routers.js';
import {
  LocalServingState,
  supersededRevisions,
  type RevisionRecord,
  type ServiceRecord,
  type TrafficChange,
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
 * each service has a router on a stable port (its service URL) that forwards
 * to the live revision. The state lives in SQLite, so it survives restarts
 * and other processes on the same file can promote or roll back; the router
 * follows them at once. Unlike Cloud Run, a service's first revision gets no
 * traffic until it is promoted.
 *
 * Ownership: this instance stops, on close(), the processes it started and
 * those it adopted in start(), unless another instance has adopted them
 * since. Run one owning instance per file; other processes may use the same
 * file for promote, rollback and describe.
 */
export class LocalProcessPlatform implements ServingPlatform {
  private readonly state: LocalServingState;
  private readonly logger: Logger;
  private readonly host: string;
  private readonly supervisor: RevisionSupervisor;
  private readonly routers: LocalServiceRouters;
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
    this.routers = new LocalServiceRouters(this.state, this.host, this.logger);
  }

  /**
   * Brings back what the state says should run after a restart of the owning
   * process: every revision recorded as ready (live, previous, and 0%-traffic
   * ones not yet stopped) is adopted when its recorded process still answers
   * AVAILABLE on its port, else started again on that port; then each
   * service's router listens on its recorded port.
   */
  start(): Promise<LocalPlatformStartReport> {
    return this.track(async () => {
      const adopted: string[] = [];
      const restarted: string[] = [];
      const failed: { revision: string; error: string }[] = [];
      // Every service at once: bringing them back one after another cost about
      // 2.5 s per service before the stack could deliver anything.
      const bringBack = async (service: ServiceRecord): Promise<void> => {
        const ready = this.state.revisions(service.name).filter((r) => r.state === 'ready');
        await Promise.all(
          ready.map(async (record) => {
            try {
              const outcome = await this.supervisor.ensureRunning(record, { adopt: true });
              if (outcome === 'adopted') adopted.push(record.revision);
              if (outcome === 'started') restarted.push(record.revision);
            } catch (error) {
              const message = error instanceof Error ? error.message : String(error);
              this.logger.error('revision could not be brought back', {
                service: record.service,
                revision: record.revision,
                err: error,
              });
              failed.push({ revision: record.revision, error: message });
            }
          }),
        );
        await this.routers.ensure(service.name);
      };
      await Promise.all(this.state.services().map(bringBack));
      return { adopted, restarted, failed };
    });
  }

  deployRevision(spec: RevisionSpec): Promise<DeployedRevision> {
    return this.track(async () => {
      validateLocalRevisionSpec(spec);
      await this.ensureService(spec.service);
      const record = await this.ensureRevision(spec);
      await this.supervisor.ensureRunning(record, { adopt: false });
      await this.routers.ensure(spec.service);
      return this.deployed(this.mustGetRevision(spec.service, spec.revision));
    });
  }

  // TODO(canary): replaced by the real split in this change.
  splitTraffic(service: string, split: readonly TrafficShare[]): Promise<ServiceTraffic> {
    return Promise.reject(new Error(`splitTraffic(${service}, ${split.length} shares) is not built yet`));
  }

  promote(service: string, revision: string): Promise<ServiceTraffic> {
    return this.track(() => this.sendTrafficTo(service, revision, 'promoted'));
  }

  rollback(service: string, toRevision?: string): Promise<ServiceTraffic> {
    return this.track(async () => {
      const current = this.mustGetService(service);
      const target = toRevision ?? current.previousRevision;
      if (target === undefined) {
        throw new PermanentError(
          'PLATFORM.NOT_FOUND',
          `service ${service} has no previous revision to roll back to (live: ${current.liveRevision ?? 'none'})`,
          { metadata: { service } },
        );
      }
      return this.sendTrafficTo(service, target, 'rolled back');
    });
  }

  discardRevision(service: string, revision: string): Promise<void> {
    return this.track(async () => {
      if (this.state.service(service)?.liveRevision === revision) {
        throw new PermanentError(
          'PLATFORM.REJECTED',
          `revision ${revision} of service ${service} has 100% of the traffic; promote or roll back to another revision before discarding it`,
          { metadata: { service, revision } },
        );
      }
      const record = this.state.revision(service, revision);
      if (record) await this.supervisor.stop(record);
    });
  }

  describe(service: string): Promise<ServiceTraffic | undefined> {
    return this.track(() => {
      const record = this.state.service(service);
      return Promise.resolve(record && this.traffic(record));
    });
  }

  /** Every change of the service's live revision, oldest first (promotes and rollbacks). */
  trafficChanges(service: string): TrafficChange[] {
    return this.state.trafficChanges(service);
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

  private async sendTrafficTo(
    service: string,
    revision: string,
    verb: 'promoted' | 'rolled back',
  ): Promise<ServiceTraffic> {
    const before = this.mustGetService(service);
    const record = this.mustGetRevision(service, revision);
    if (record.state === 'failed') {
      throw new PermanentError(
        'PLATFORM.REVISION_FAILED',
        `revision ${revision} of service ${service} failed to start (see ${record.logFile}); it cannot take traffic`,
        { metadata: { service, revision } },
      );
    }
    // A stopped revision (superseded, or the platform restarted) starts again on its port.
    await this.supervisor.ensureRunning(record, { adopt: false });
    const after = this.state.setLive(service, revision);
    this.logger.info(`service ${service} ${verb} to revision ${revision}`, {
      service,
      revision,
      replaced: before.liveRevision ?? null,
      previous: after.previousRevision ?? null,
    });
    await Promise.all(
      supersededRevisions(this.state.revisions(service), after).map((superseded) =>
        this.supervisor.stop(superseded),
      ),
    );
    return this.traffic(after);
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
    const service = this.mustGetService(record.service);
    return {
      service: record.service,
      revision: record.revision,
      tagUrl: baseUrl(this.host, record.port),
      serviceUrl: baseUrl(this.host, service.routerPort),
    };
  }

  private traffic(service: ServiceRecord): ServiceTraffic {
    return serviceTrafficOf(service, this.state.revisions(service.name), this.host);
  }

  private mustGetService(service: string): ServiceRecord {
    const record = this.state.service(service);
    if (record) return record;
    throw new PermanentError('PLATFORM.NOT_FOUND', `service ${service} does not exist`, {
      metadata: { service },
    });
  }

  private mustGetRevision(service: string, revision: string): RevisionRecord {
    const record = this.state.revision(service, revision);
    if (record) return record;
    throw new PermanentError(
      'PLATFORM.NOT_FOUND',
      `revision ${revision} of service ${service} does not exist`,
      { metadata: { service, revision } },
    );
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
