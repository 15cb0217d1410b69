/**
 * `npm start`: the main job on the embedded defaults. Today it opens the local
 * run store and event bus (creating them and the four topics on first use) and
 * reports what they hold. The deployment chain that would pick up a model
 * (register → deploy → verify with local serving processes) is not built yet,
 * so it says so, points at what can be done by hand, and exits instead of
 * pretending to deploy.
 */
import path from 'node:path';
import {
  ConfigError,
  RUN_STATUSES,
  createCloudLogger,
  loadRuntimeConfig,
  topicNames,
} from '@recdeploy/shared';
import { LocalEventBus, SqliteRunStore } from '@recdeploy/shared/local';
import { localDataFiles } from '@recdeploy/shared/wiring';

/** listRuns returns at most this many; the report says "500+" beyond it. */
const LIST_CAP = 500;

async function main(): Promise<number> {
  let config;
  try {
    config = loadRuntimeConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (config.backend !== 'local') {
    process.stderr.write(
      'npm start runs the local stack: unset RECDEPLOY_BACKEND or set it to local\n',
    );
    return 2;
  }
  const logger = createCloudLogger({ level: 'warn' });
  const files = localDataFiles(config.dataDir);
  const store = new SqliteRunStore({ file: files.runStore, logger });
  const bus = new LocalEventBus({ file: files.eventBus, logger });
  try {
    for (const topic of topicNames(config.topics)) bus.createTopic(topic);
    return await report(store, bus, files);
  } finally {
    await store.close();
    await bus.close();
  }
}

async function report(
  store: SqliteRunStore,
  bus: LocalEventBus,
  files: { runStore: string; eventBus: string },
): Promise<number> {
  const counts: string[] = [];
  for (const status of RUN_STATUSES) {
    const runs = await store.listRuns({ status, limit: LIST_CAP });
    if (runs.length > 0)
      counts.push(`${status} ${runs.length}${runs.length === LIST_CAP ? '+' : ''}`);
  }
  const stats = bus.stats();
  const lines = [
    'recdeploy local stack (embedded defaults)',
    `  run store:  ${path.resolve(files.runStore)} (SQLite, WAL)`,
    `              runs: ${counts.length === 0 ? 'none yet' : counts.join(', ')}`,
    `  event bus:  ${path.resolve(files.eventBus)} (SQLite, push delivery)`,
    `              topics: ${stats.topics.join(', ')}`,
    `              deliveries pending ${stats.pending}, dead-lettered ${stats.deadLettered}`,
    '',
    'No model is configured, and the deployment chain (register -> deploy -> verify) that',
    'would take one from a training-completed event to a live local endpoint is not built',
    'yet: nothing to deploy. A model can be trained, indexed and served by hand today:',
    '  npx recdeploy sample-model --out /tmp/model && npx recdeploy build-index /tmp/model',
    '  (then see "Serve a model by hand" in the README). docs/architecture.md says what exists.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

process.exitCode = await main();
