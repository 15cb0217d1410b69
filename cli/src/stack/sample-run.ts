/**
 * The sample run `start` deploys: the sample model is trained once per data
 * directory (the "train" phase), a training-completed event is published for
 * it unless its run already exists (a second start deploys nothing twice),
 * and its phases are told until it ends.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildTrainingCompletedV1, type TrainingCompletedV1 } from '@recdeploy/events';
import { runKey, type RunDocument, type RunStore } from '@recdeploy/shared';
import type { ChainConfig } from '@recdeploy/shared/chain';
import type { LocalEventBus } from '@recdeploy/shared/local';
import type { Narrator } from '../output/phase-narrator.js';
import { narrateRun } from './narrate-run.js';
import {
  ensureSampleModel,
  hasSampleModel,
  SAMPLE_ENDPOINT,
  SAMPLE_MODEL_DIR,
  sampleManifestMetrics,
} from './sample-model.js';
import { unlessStopped } from './stop-signals.js';

const ENDED = new Set(['live', 'failed', 'skipped', 'rolled_back', 'replaced']);

/** The sample run the stack deploys (its run id is `local-sample-sample-run-1`). */
export const SAMPLE_RUN = { modelEndpointId: SAMPLE_ENDPOINT, trainingRunId: 'sample-run-1' };

/**
 * How long training takes, measured on a 2-core machine: once per data
 * directory, then reused.
 */
export const SAMPLE_TRAINING_TIME = '20–80 s on two cores, once per data directory';

export interface SampleRunOptions {
  readonly dataDir: string;
  readonly narrator: Narrator;
  readonly products?: number;
  readonly signal?: AbortSignal;
}

export async function deploySample(
  config: ChainConfig,
  store: RunStore,
  bus: LocalEventBus,
  options: SampleRunOptions,
): Promise<RunDocument> {
  const { narrator, signal } = options;
  const runId = runKey(SAMPLE_RUN);
  const existing = await store.getRun(runId);
  if (existing !== undefined) {
    narrator.line(`run ${runId} exists (${existing.status}); not publishing it again`);
    // One that ended was told by the start that deployed it; one still moving is told from here.
    return ENDED.has(existing.status) ? existing : narrateRun(store, runId, narrator, signal);
  }
  const dir = path.join(options.dataDir, SAMPLE_MODEL_DIR);
  if (hasSampleModel(dir)) {
    narrator.line(`✔ train: sample model ${dir} (trained before; reused)`);
  } else {
    narrator.begin('train', `training the sample two-tower model (${SAMPLE_TRAINING_TIME})`);
  }
  const model = await unlessStopped(
    ensureSampleModel(dir, {
      progress: (line) => narrator.progress(line),
      ...(options.products === undefined ? {} : { products: options.products }),
      ...(signal === undefined ? {} : { signal }),
    }),
    signal,
  );
  if (model.trained !== undefined) narrator.end('ok', `${model.trained}; in ${model.dir}`);
  const message = initialSampleMessage(pathToFileURL(model.dir).href);
  const id = await bus.publish(config.runtime.topics.trainingCompleted, {
    data: message,
    attributes: { origin: 'recdeploy-start' },
  });
  narrator.line(`published training-completed ${id} for run ${runId}`);
  return narrateRun(store, runId, narrator, signal);
}

/** The training-completed message of the sample model's first run (what `start` deploys). */
export function initialSampleMessage(artifactUri: string): TrainingCompletedV1 {
  return buildTrainingCompletedV1({
    training_run_id: SAMPLE_RUN.trainingRunId,
    model_endpoint_id: SAMPLE_RUN.modelEndpointId,
    model_slug: 'sample-two-tower',
    run_number: 1,
    model_type: 'retrieval',
    retrieval_algorithm: 'hnsw',
    artifact_uri: artifactUri,
    is_blessed: true,
    metrics: sampleManifestMetrics(fileURLToPath(artifactUri)),
    completed_at: new Date().toISOString(),
  });
}
