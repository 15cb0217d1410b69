/**
 * What every chain function shares, whatever way it is registered with the
 * functions-framework: configuration read at cold start (a misconfigured
 * function fails to start and says why), a logger named after the step,
 * adapters created on the first event, and the delivery contract: resolving
 * acknowledges; a passing failure throws, so the bus redelivers; a permanent
 * failure that escapes a use case is acknowledged (logged), never looped.
 */
import { loadChainConfig, type ChainConfig } from '../config/chain-config.js';
import { loadEmulatorEndpoints } from '../config/emulator-endpoints.js';
import { deliveryDecisionFor, toRecdeployError } from '../errors.js';
import { createCloudLogger } from '../logging/cloud-logger.js';
import type { Logger } from '../logging/logger.port.js';
import type { ChainDeps } from '../usecases/chain-deps.js';
import { chainDepsFor } from './chain-deps-factory.js';

/** The steps wired as functions (`reconcile` is a scheduler tick, wired the same way). */
export type ChainStep = 'register' | 'deploy' | 'verify' | 'reconcile';

export interface ChainRuntime {
  readonly step: ChainStep;
  readonly config: ChainConfig;
  readonly logger: Logger;
  /**
   * Runs `work` with the chain's adapters under the delivery contract:
   * resolves to acknowledge, throws the passing failure to have it redelivered.
   */
  run(work: (deps: ChainDeps) => Promise<void>): Promise<void>;
}

/** Reads the configuration now (cold start); adapters come with the first `run`. */
export function chainRuntime(step: ChainStep, env: NodeJS.ProcessEnv = process.env): ChainRuntime {
  const config = loadChainConfig(env);
  // A bad emulator variable fails the cold start, not every delivery (a
  // ConfigError at the first event would be acknowledged and the event lost).
  if (config.runtime.backend === 'gcp') loadEmulatorEndpoints(env);
  const logger = createCloudLogger({
    level: config.runtime.logLevel,
    stream: config.runtime.logStream,
    base: { service: `recdeploy-${step}` },
  });
  return {
    step,
    config,
    logger,
    async run(work) {
      try {
        // Adapters are shared by the functions of one process; the logger is this function's.
        await work({ ...(await chainDepsFor(config, logger)), logger });
      } catch (error) {
        const failure = toRecdeployError(error);
        if (deliveryDecisionFor(failure) === 'ack') {
          logger.error(`${step}: permanent failure, acknowledged`, { ...failure.toJSON() });
          return;
        }
        logger.warn(`${step}: passing failure, the message will be redelivered`, {
          ...failure.toJSON(),
        });
        throw failure;
      }
    },
  };
}
