/**
 * The replay sample as the server wires it: a sampler the predict handler
 * feeds, the file it is restored from at start and written to every
 * REPLAY_PERSIST_INTERVAL_S, and a last write on shutdown. Nothing exists
 * when REPLAY_SAMPLE_SIZE is 0 (the default): no instance is kept, no file
 * is read or written.
 */
import type { Logger } from '@recdeploy/shared';
import type { ReplaySampleConfig } from '../config/serving-config.js';
import { ReplaySampler } from './replay-sampler.js';
import { openReplaySampleStore, type OpenSampleBucket } from './replay-sample-store.js';
import { ReplaySampleWriter } from './replay-sample-writer.js';

export interface ReplaySampling {
  readonly sampler: ReplaySampler;
  /** Seeds the sampler from the revision's existing file; never throws. */
  restore(): Promise<void>;
  /** Starts the periodic writes. */
  start(): void;
  /** The last write (bounded); never throws. */
  close(): Promise<void>;
}

export interface ReplaySamplingOptions {
  readonly config: ReplaySampleConfig;
  readonly modelName: string;
  readonly trainingRunId?: string | undefined;
  readonly logger: Logger;
  readonly onWrite?: (result: 'ok' | 'error') => void;
  /** Tests: a Cloud Storage client pointed at a fake. */
  readonly openBucket?: OpenSampleBucket;
}

export function createReplaySampling(options: ReplaySamplingOptions): ReplaySampling {
  const { config, logger } = options;
  const sampler = new ReplaySampler({
    capacity: config.capacity,
    modelName: options.modelName,
    trainingRunId: options.trainingRunId,
  });
  const store = openReplaySampleStore(config.location, options.openBucket);
  const writer = new ReplaySampleWriter(sampler, store, {
    intervalMs: config.persistIntervalMs,
    logger,
    ...(options.onWrite ? { onWrite: options.onWrite } : {}),
  });
  return {
    sampler,
    restore: () => writer.restore(),
    start: () => {
      writer.start();
      logger.info('replay sample on', {
        uri: store.uri,
        capacity: config.capacity,
        persistIntervalS: config.persistIntervalMs / 1000,
      });
    },
    close: () => writer.close(),
  };
}
