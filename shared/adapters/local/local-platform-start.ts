import type { Logger } from '../../logging/logger.port.js';
import type { LocalPlatformStartReport } from './local-process-platform-types.js';
import type { RevisionSupervisor } from './local-revision-supervisor.js';
import type { LocalServiceRouters } from './local-serving-routers.js';
import type { LocalServingState, ServiceRecord } from './local-serving-state.js';

/**
 * What the state says should run after a restart of the owning process:
 * every revision recorded as ready (with a share, previous, or at 0% and not
 * yet stopped) is adopted when its recorded process still answers AVAILABLE
 * on its port, else started again on that port; then each service's router
 * listens on its recorded port. Shares are kept as stored, so a revision
 * brought back serves its share again.
 */
export async function bringBackServices(parts: {
  readonly state: LocalServingState;
  readonly supervisor: RevisionSupervisor;
  readonly routers: LocalServiceRouters;
  readonly logger: Logger;
}): Promise<LocalPlatformStartReport> {
  const { state, supervisor, routers, logger } = parts;
  const adopted: string[] = [];
  const restarted: string[] = [];
  const failed: { revision: string; error: string }[] = [];
  const bringBack = async (service: ServiceRecord): Promise<void> => {
    const ready = state.revisions(service.name).filter((r) => r.state === 'ready');
    await Promise.all(
      ready.map(async (record) => {
        try {
          const outcome = await supervisor.ensureRunning(record, { adopt: true });
          if (outcome === 'adopted') adopted.push(record.revision);
          if (outcome === 'started') restarted.push(record.revision);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          logger.error('revision could not be brought back', {
            service: record.service,
            revision: record.revision,
            err: error,
          });
          failed.push({ revision: record.revision, error: message });
        }
      }),
    );
    await routers.ensure(service.name);
  };
  // Every service at once: bringing them back one after another cost about
  // 2.5 s per service before the stack could deliver anything.
  await Promise.all(state.services().map(bringBack));
  return { adopted, restarted, failed };
}
