import { randomUUID } from 'node:crypto';
import { PermanentError, TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import { launchRevision, probeUrl } from './local-revision-launcher.js';
import { isProcessAlive, RevisionProcess } from './local-revision-process.js';
import { modelState, waitUntilAvailable } from './local-revision-readiness.js';
import type { ServingCommand } from './local-serving-command.js';
import { allocatePort, isPortFree } from './local-serving-ports.js';
import type { LocalServingState, RevisionRecord } from './local-serving-state.js';

/** How ensureRunning() found the revision: already running, adopted, or started by it. */
export type RunningOutcome = 'running' | 'adopted' | 'started';

export interface RevisionSupervisorOptions {
  readonly state: LocalServingState;
  readonly host: string;
  readonly servingCommand: ServingCommand;
  readonly readyTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** True once the platform is closing: waits end early, nothing new starts. */
  readonly closing: () => boolean;
}

interface OwnedProcess {
  readonly service: string;
  readonly revision: string;
  readonly child: RevisionProcess;
}

/**
 * Starts, adopts and stops revision processes, keeping each revision's state
 * row in step, and remembers the processes this platform instance owns: the
 * ones it started and the ones it adopted. Ownership is also written into the
 * state, so when another instance adopts a process, this one lets it be.
 */
export class RevisionSupervisor {
  private readonly instanceId = randomUUID();
  private readonly owned = new Map<string, OwnedProcess>();
  private readonly bringingUp = new Map<string, Promise<RunningOutcome>>();

  constructor(private readonly options: RevisionSupervisorOptions) {}

  /**
   * Makes sure the revision's process answers AVAILABLE: ours and running;
   * someone else's (adopted when `adopt`), or being started by another
   * instance (waited for); else started on its recorded port. One check at a
   * time per revision, so concurrent callers never start two processes.
   */
  ensureRunning(record: RevisionRecord, options: { adopt: boolean }): Promise<RunningOutcome> {
    const key = keyOf(record);
    const inFlight = this.bringingUp.get(key);
    if (inFlight) return inFlight.then(() => 'running');
    const work = this.bringUp(record, options).finally(() => this.bringingUp.delete(key));
    this.bringingUp.set(key, work);
    return work;
  }

  /** Marks the revision stopped and stops its process (ours, or the recorded one if it is still a model server). */
  async stop(record: RevisionRecord): Promise<void> {
    const { state, logger, host, stopTimeoutMs } = this.options;
    const key = keyOf(record);
    if (record.state === 'starting' || record.state === 'ready') {
      state.setState(record.service, record.revision, 'stopped');
    }
    let child = this.owned.get(key)?.child;
    if (!child && record.pid !== undefined && isProcessAlive(record.pid)) {
      // A pid can be reused: signal it only if the revision's port still answers as a model server.
      if ((await modelState(probeUrl(host, record.port, record.spec))) !== undefined) {
        child = RevisionProcess.adopt(record.pid);
      }
    }
    if (!child) return;
    await child.stop(stopTimeoutMs);
    this.owned.delete(key);
    logger.info('revision stopped', { ...fieldsOf(record), pid: child.pid });
  }

  /** Stops every process this instance still owns (close); the state keeps saying what should run. */
  async stopOwned(): Promise<void> {
    const { state, stopTimeoutMs } = this.options;
    await Promise.allSettled(
      [...this.owned.values()].map(async ({ service, revision, child }) => {
        const record = state.revision(service, revision);
        // Another instance adopted it after us: it is theirs to stop.
        if (record && (record.owner !== this.instanceId || record.pid !== child.pid)) return;
        await child.stop(stopTimeoutMs);
      }),
    );
    this.owned.clear();
  }

  private async bringUp(
    record: RevisionRecord,
    { adopt }: { adopt: boolean },
  ): Promise<RunningOutcome> {
    const { state, logger, host, stopTimeoutMs } = this.options;
    const key = keyOf(record);
    const url = probeUrl(host, record.port, record.spec);
    const ours = this.owned.get(key)?.child;
    if (ours?.running) {
      if ((await modelState(url)) === 'AVAILABLE') return 'running';
      await ours.stop(stopTimeoutMs); // hung: replace it
    } else if (record.pid !== undefined && isProcessAlive(record.pid)) {
      const found = await modelState(url);
      if (found === 'AVAILABLE' && record.state === 'ready') {
        if (!adopt) return 'running';
        this.owned.set(key, { ...fieldsOf(record), child: RevisionProcess.adopt(record.pid) });
        state.recordAdoption(record.service, record.revision, this.instanceId);
        logger.info('adopted running revision', { ...fieldsOf(record), pid: record.pid });
        return 'adopted';
      }
      if (found !== undefined && record.state === 'starting') {
        await this.awaitStartByOther(record, url);
        return 'running';
      }
    }
    await this.launch(record);
    return 'started';
  }

  private async launch(record: RevisionRecord): Promise<void> {
    const { state, logger, host } = this.options;
    const key = keyOf(record);
    let port = record.port;
    if (!(await isPortFree(host, port))) {
      port = await allocatePort(host, state.usedPorts());
      state.movePort(record.service, record.revision, port);
      logger.warn(
        'recorded port of the revision is taken by another program: its tag URL changes',
        {
          ...fieldsOf(record),
          recordedPort: record.port,
          port,
        },
      );
    }
    let child: RevisionProcess;
    try {
      child = await launchRevision({
        spec: record.spec,
        host,
        port,
        logFile: record.logFile,
        command: this.options.servingCommand,
        readyTimeoutMs: this.options.readyTimeoutMs,
        pollIntervalMs: this.options.pollIntervalMs,
        stopTimeoutMs: this.options.stopTimeoutMs,
        logger,
        cancelled: this.options.closing,
        onSpawned: (spawned) => {
          this.owned.set(key, { ...fieldsOf(record), child: spawned });
          state.recordProcess(record.service, record.revision, spawned.pid, this.instanceId);
        },
      });
    } catch (error) {
      // A cancelled start stays `starting`: its process is stopped on close, and started again later.
      if (error instanceof PermanentError) {
        this.owned.delete(key);
        state.setState(record.service, record.revision, 'failed');
      }
      throw error;
    }
    state.setState(record.service, record.revision, 'ready');
    logger.info('revision ready', { ...fieldsOf(record), port, pid: child.pid });
  }

  /** Another instance is starting this revision: wait for it rather than start a second process. */
  private async awaitStartByOther(record: RevisionRecord, url: string): Promise<void> {
    const pid = record.pid ?? 0;
    const result = await waitUntilAvailable({
      url,
      timeoutMs: this.options.readyTimeoutMs,
      intervalMs: this.options.pollIntervalMs,
      running: () => isProcessAlive(pid),
      cancelled: this.options.closing,
    });
    if (result.outcome === 'available') return;
    throw new TransientError(
      'PLATFORM.CONFLICT',
      `revision ${record.revision} of service ${record.service} is being started by another process (pid ${pid}), which did not make it ready (${result.outcome})`,
      { metadata: { service: record.service, revision: record.revision, pid } },
    );
  }
}

function keyOf(record: { service: string; revision: string }): string {
  return `${record.service}/${record.revision}`;
}

function fieldsOf(record: RevisionRecord): { service: string; revision: string } {
  return { service: record.service, revision: record.revision };
}
