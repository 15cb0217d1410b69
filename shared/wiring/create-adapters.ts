import path from 'node:path';
import { topicNames, type RuntimeConfig } from '../config/runtime-config.js';
import type { Logger } from '../logging/logger.port.js';
import type { EventBus } from '../ports/event-bus.port.js';
import type { RunStore } from '../ports/run-store.port.js';

/** The adapters a deployable runs with, chosen once from its configuration. */
export interface Adapters {
  readonly runStore: RunStore;
  readonly eventBus: EventBus;
  /** Closes everything it opened. */
  close(): Promise<void>;
}

/** Where the local backend keeps its files, below RECDEPLOY_DATA_DIR. */
export function localDataFiles(dataDir: string): { runStore: string; eventBus: string } {
  return {
    runStore: path.join(dataDir, 'runs.db'),
    eventBus: path.join(dataDir, 'bus.db'),
  };
}

/**
 * The composition root (STYLE.md §4): the only place that picks adapters by
 * backend. Each backend's modules are imported on demand, so the local stack
 * never loads the Google SDKs and a cloud function never loads better-sqlite3.
 */
export async function createAdapters(config: RuntimeConfig, logger: Logger): Promise<Adapters> {
  if (config.backend === 'local') {
    const { SqliteRunStore, LocalEventBus } = await import('../adapters/local/index.js');
    const files = localDataFiles(config.dataDir);
    const eventBus = new LocalEventBus({
      file: files.eventBus,
      logger: logger.child({ port: 'bus' }),
    });
    for (const topic of topicNames(config.topics)) {
      eventBus.createTopic(topic);
    }
    return withClose(
      new SqliteRunStore({ file: files.runStore, logger: logger.child({ port: 'store' }) }),
      eventBus,
    );
  }
  const { FirestoreRunStore, PubSubEventBus } = await import('../adapters/gcp/index.js');
  return withClose(
    new FirestoreRunStore({
      projectId: config.projectId,
      databaseId: config.firestoreDatabase,
      collection: config.collection,
      logger: logger.child({ port: 'store' }),
    }),
    new PubSubEventBus({ projectId: config.projectId }),
  );
}

/**
 * Only the run store, for readers (the dashboard, the CLI): no event bus, no
 * topics created, nothing else opened.
 */
export async function createRunStore(config: RuntimeConfig, logger: Logger): Promise<RunStore> {
  if (config.backend === 'local') {
    const { SqliteRunStore } = await import('../adapters/local/index.js');
    return new SqliteRunStore({
      file: localDataFiles(config.dataDir).runStore,
      logger: logger.child({ port: 'store' }),
    });
  }
  const { FirestoreRunStore } = await import('../adapters/gcp/index.js');
  return new FirestoreRunStore({
    projectId: config.projectId,
    databaseId: config.firestoreDatabase,
    collection: config.collection,
    logger: logger.child({ port: 'store' }),
  });
}

function withClose(runStore: RunStore, eventBus: EventBus): Adapters {
  return {
    runStore,
    eventBus,
    close: async () => {
      await Promise.allSettled([runStore.close(), eventBus.close()]);
    },
  };
}
