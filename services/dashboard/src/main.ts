/**
 * Entry point: `npm start -w services/dashboard` runs the built file
 * (dist/src/main.js); tests and the local stack run this source through tsx.
 * Configuration comes from the environment (config/dashboard-config.ts); the
 * run store is SQLite under RECDEPLOY_DATA_DIR locally, Firestore with
 * RECDEPLOY_BACKEND=gcp. Exit codes: 0 after a graceful SIGTERM/SIGINT,
 * 1 when it cannot start (store, page, port), 2 on invalid configuration.
 */
import { ConfigError, createCloudLogger } from '@recdeploy/shared';
import { createRunStore } from '@recdeploy/shared/wiring';
import { startDashboardApp } from './app.js';
import { loadDashboardConfig } from './config/dashboard-config.js';
import { describeExposure } from './listen-exposure.js';
import { loadDashboardPage } from './page/dashboard-page.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadDashboardConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const logger = createCloudLogger({
    level: config.runtime.logLevel,
    base: { service: 'dashboard' },
  });
  const page = loadDashboardPage();
  const store = await createRunStore(config.runtime, logger);
  const app = await startDashboardApp(config, store, logger, page).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const exposure = describeExposure(app.address, app.port, process.env);
  logger.info('dashboard listening', {
    // The address really bound, not the URL's host (127.0.0.1 for 0.0.0.0 too).
    host: app.address,
    port: app.port,
    url: app.url,
    access: exposure.access,
    backend: config.runtime.backend,
    ...(config.runtime.backend === 'local'
      ? { dataDir: config.runtime.dataDir }
      : { projectId: config.runtime.projectId, collection: config.runtime.collection }),
  });
  if (exposure.warning !== undefined) {
    logger.warn('dashboard reachable from the network without a login', {
      host: app.address,
      port: app.port,
      detail: exposure.warning,
    });
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('signal received', { signal });
    void app
      .shutdown()
      .then(async ({ drained }) => {
        await store.close();
        logger.info('dashboard stopped', { drained });
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `dashboard failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
