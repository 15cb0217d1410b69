/**
 * What `recdeploy publish` sends: an event file, read and validated before
 * anything is opened (a bad one is a usage error naming the problem and the
 * field path), or a new run of the local stack's sample model.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  MAX_EVENT_DATA_BYTES,
  buildTrainingCompletedV1,
  parseTrainingCompletedPayload,
  trainingRunKey,
  type TrainingCompleted,
  type TrainingCompletedV1,
} from '@recdeploy/events';
import type { Logger, RuntimeConfig } from '@recdeploy/shared';
import type { CliIo } from '../cli-io.js';
import { usageError } from '../output/usage-error.js';
import { SAMPLE_ENDPOINT, SAMPLE_MODEL_DIR, sampleManifestMetrics } from '../stack/sample-model.js';
import { highestStoredRunNumber, reserveSampleRunNumber } from './sample-run-number.js';

/** A validated message: the JSON as it will be published, and what it asks for. */
export interface EventToPublish {
  readonly payload: unknown;
  readonly event: TrainingCompleted;
}

/** Reads and validates an event file; anything wrong with it is a usage error. */
export function readEventFile(io: CliIo, file: string): EventToPublish {
  const text = readSmallText(io, file);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    usageError(io, `${file} is not valid JSON: ${describeJsonError(error, text)}`);
  }
  const parsed = parseTrainingCompletedPayload(payload);
  if (!parsed.ok) {
    const { code, reason } = parsed.rejection;
    usageError(
      io,
      code === 'EVENT.IGNORED'
        ? `${file} would be ignored by the register step: ${reason}`
        : `${file} is not a valid training-completed message: ${reason}`,
    );
  }
  return { payload, event: parsed.value };
}

/** The file's text; a missing, unreadable or oversized file is a usage error. */
function readSmallText(io: CliIo, file: string): string {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    usageError(io, `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  if (size > MAX_EVENT_DATA_BYTES) {
    usageError(io, `${file} has ${size} bytes; a message is at most ${MAX_EVENT_DATA_BYTES} bytes`);
  }
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    usageError(io, `cannot read ${file}: ${code === 'EISDIR' ? 'it is a directory' : code}`);
  }
}

/** A JSON.parse error on one line, with the line and column when V8 gives a position. */
export function describeJsonError(error: unknown, text: string): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = Number(position) - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}

/**
 * A new run of the local stack's sample model: the bundle the stack trained
 * into `{dataDir}/models/sample`, run number `runNumber`, and a training run
 * id made from it (`sample-run-2`), as the stack names its first run.
 */
export function sampleMessage(
  bundleDir: string,
  runNumber: number,
  now: Date = new Date(),
): TrainingCompletedV1 {
  return buildTrainingCompletedV1({
    training_run_id: `sample-run-${runNumber}`,
    model_endpoint_id: SAMPLE_ENDPOINT,
    model_slug: 'sample-two-tower',
    run_number: runNumber,
    model_type: 'retrieval',
    retrieval_algorithm: 'hnsw',
    artifact_uri: pathToFileURL(bundleDir).href,
    is_blessed: true,
    metrics: sampleManifestMetrics(bundleDir),
    completed_at: now.toISOString(),
  });
}

/**
 * A new run of the sample model of the local data directory, numbered one
 * above the sample endpoint's highest run (sample-run-number.ts).
 */
export async function sampleEvent(config: RuntimeConfig, logger: Logger): Promise<EventToPublish> {
  if (config.backend !== 'local') throw new Error('the sample needs the local backend');
  const dir = path.resolve(config.dataDir, SAMPLE_MODEL_DIR);
  if (!fs.existsSync(path.join(dir, 'ann', 'manifest.json'))) {
    throw new Error(
      `no sample model at ${dir}: \`recdeploy start\` (npm start) creates it on its first start, or create it with \`recdeploy sample-model --out ${dir}\``,
    );
  }
  const highest = await highestStoredRunNumber(config, SAMPLE_ENDPOINT, logger);
  const message = sampleMessage(dir, reserveSampleRunNumber(config.dataDir, highest));
  const event: TrainingCompleted = {
    kind: 'training_completed',
    idempotencyKey: trainingRunKey(message),
    message,
  };
  return { payload: message, event };
}
