/**
 * Entry point: `npm start -w services/ann-serving` runs the built file
 * (dist/src/main.js); tests run this source through tsx. Configuration comes
 * from the environment (see config/serving-config.ts). Exit codes: 0 after a
 * graceful SIGTERM/SIGINT, 1 when the model fails to load (so the revision
 * fails fast instead of idling unready) or cannot listen, 2 on invalid
 * configuration.
 */
import { ConfigError, createCloudLogger } from '@recdeploy/shared';
import { startServingApp } from './app.js';
import { loadServingConfig } from './config/serving-config.js';
import { loadServingModel } from './model/load-serving-model.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadServingConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const logger = createCloudLogger({ level: config.logLevel, base: { service: 'ann-serving' } });
  const app = await startServingApp(config, logger, loadServingModel);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('signal received', { signal });
    void app.shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  app.loaded.catch(() => {
    if (!stopping) process.exit(1);
  });
}

main().catch((error: unknown) => {
  // Cannot start at all (e.g. the port is taken): say why, and fail the container.
  process.stderr.write(
    `ann-serving failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
