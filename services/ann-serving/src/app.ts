/**
 * The composition root of the serving process (STYLE.md §4): wires the model
 * slot, batching, metrics, the REST API and the HTTP server, starts
 * listening at once (readiness 503 while loading, so Cloud Run's startup
 * probe can watch), then loads the model in the background.
 */
import type { Logger } from '@recdeploy/shared';
import { AdmissionController } from './admission/admission-controller.js';
import { EventLoopLag } from './admission/event-loop-lag.js';
import { BatchedPredictor } from './batching/batched-predictor.js';
import type { ServingConfig } from './config/serving-config.js';
import { RestHttpServer } from './http/http-server.js';
import { withFingerprintHeaders } from './http/fingerprint-headers.js';
import { createRestApi } from './http/rest-api.js';
import { ServingMetrics } from './metrics/serving-metrics.js';
import { ModelSlot } from './model/model-slot.js';
import type { ServingModel } from './model/serving-model.js';
import { createReplaySampling } from './replay/replay-sampling.js';

/** Loads the model named by the configuration (load-serving-model.ts in production). */
export type ModelLoader = (config: ServingConfig, logger: Logger) => Promise<ServingModel>;

export interface ServingApp {
  /** The port actually bound (PORT=0 picks a free one). */
  readonly port: number;
  readonly slot: ModelSlot;
  /** Settles when loading finished: resolves when AVAILABLE, rejects with the load error. */
  readonly loaded: Promise<ServingModel>;
  /** Graceful stop: refuse new work, finish in-flight requests (bounded), release the model. */
  shutdown(): Promise<{ drained: boolean }>;
}

export async function startServingApp(
  config: ServingConfig,
  logger: Logger,
  loadModel: ModelLoader,
): Promise<ServingApp> {
  const metrics = new ServingMetrics();
  const slot = new ModelSlot(config.modelName, config.modelVersion);
  let shuttingDown = false;
  let predictor: { model: ServingModel; batched: BatchedPredictor } | undefined;
  const loopLag = new EventLoopLag();
  loopLag.start();
  const admission = new AdmissionController(config.admission, () => loopLag.lagMs());
  metrics.watchAdmission(admission);
  const admissionOn = config.admission.targetMs > 0;
  // Off unless REPLAY_SAMPLE_SIZE > 0: instances can hold customer data.
  const replay =
    config.replaySample &&
    createReplaySampling({
      config: config.replaySample,
      modelName: config.modelName,
      trainingRunId: config.trainingRunId,
      logger,
      onWrite: (result) => metrics.observeReplayWrite(result),
    });
  if (replay) metrics.watchReplaySample(replay.sampler);
  const replayRestored = replay?.restore().then(() => replay.start());
  const api = createRestApi({
    slot,
    metrics,
    logger,
    limits: { maxInstances: config.maxInstances, maxRequestCost: config.maxRequestCost },
    isShuttingDown: () => shuttingDown,
    predictorFor: (model) => {
      if (predictor?.model !== model) {
        const batching = admissionOn ? { ...config.batching, admission } : config.batching;
        const batched = new BatchedPredictor(model, batching, (size) => metrics.observeBatch(size));
        predictor = { model, batched };
      }
      return predictor.batched;
    },
    onShed: (reason) => metrics.observeShed(reason),
    retryAfterSeconds: config.admission.retryAfterSeconds,
    ...(replay && {
      onAnswered: (instances, headers) => replay.sampler.record(instances, headers),
    }),
  });
  // Every predict answer names the run and fingerprint it came from (verify checks them).
  const server = new RestHttpServer(withFingerprintHeaders(api, slot), {
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
    metrics,
    ...(admissionOn ? { admit: () => admission.admit() } : {}),
    retryAfterSeconds: config.admission.retryAfterSeconds,
  });
  const address = await server.listen(config.port, config.host);
  logger.info('listening; loading the model', {
    host: config.host,
    port: address.port,
    model: config.modelName,
    version: config.modelVersion,
    modelPath: config.modelPath,
    mode: config.mode,
    admission: admissionOn
      ? { targetMs: config.admission.targetMs, intervalMs: config.admission.intervalMs }
      : 'off',
  });

  const started = performance.now();
  const loaded = loadModel(config, logger).then(
    async (model) => {
      // The sample a previous process of this revision left comes first, before predicts add to it.
      await replayRestored;
      slot.ready(model);
      metrics.modelLoaded(model);
      logger.info('model AVAILABLE', {
        model: model.name,
        version: model.version,
        mode: model.mode,
        encoderBackend: model.encoderBackend,
        catalogueSize: model.catalogueSize,
        defaultK: model.defaultK,
        maxK: model.maxK,
        loadSeconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      });
      return model;
    },
    (error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      slot.failed(failure);
      logger.error('model failed to load', { err: failure });
      throw failure;
    },
  );

  return {
    port: address.port,
    slot,
    loaded,
    async shutdown() {
      shuttingDown = true;
      logger.info('shutting down: finishing requests in flight', {
        inFlight: server.activeRequests,
      });
      const drained = await server.close(config.shutdownTimeoutMs);
      // After the last answers: their instances belong in the sample.
      await replay?.close();
      loopLag.stop();
      await slot.model?.dispose();
      logger.info('stopped', { drained });
      return { drained };
    },
  };
}
