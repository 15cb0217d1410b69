/**
 * Everything that can arrive on the training-completed topic, normalised to
 * one discriminated type:
 * - `training_completed`: the project's own message (training-completed v1);
 * - `resolve_pipeline_job`: a succeeded Vertex AI PipelineJob, reported by a
 *   Cloud Logging sink, whose details the handler must look up.
 * Idempotency keys come from business identity (run id, pipeline job), never
 * from the Pub/Sub message id.
 */
import { decodeAndParse, type WithDelivery } from './delivered.js';
import {
  looksLikePipelineJobLogEntry,
  normalisePipelineJobLogEntry,
  type PipelineJobToResolve,
} from './pipeline-job-log-entry.js';
import { accepted, neverThrow, type ParseResult } from './result.js';
import {
  TrainingCompletedV1Schema,
  trainingRunKey,
  readTrainingRunKey,
  type TrainingCompletedV1,
} from './training-completed.v1.js';
import { toJsonData } from './validation/json-data.js';
import { checkJsonData } from './validation/validate.js';

/** The project's own message, validated. */
export interface TrainingCompletedMessage {
  readonly kind: 'training_completed';
  /** The run id: `{model_endpoint_id}-{training_run_id}`. */
  readonly idempotencyKey: string;
  readonly message: TrainingCompletedV1;
}

/** What a training-completed delivery asks for, whichever shape it came in. */
export type TrainingCompleted = TrainingCompletedMessage | PipelineJobToResolve;

/** A training-completed delivery, normalised, with its delivery metadata. */
export type DeliveredTrainingCompleted = WithDelivery<TrainingCompleted>;

/** Normalises a decoded training-completed payload (either shape); never throws. */
export function parseTrainingCompletedPayload(payload: unknown): ParseResult<TrainingCompleted> {
  return safeParsePayload(payload);
}

/** Decodes a `messagePublished` CloudEvent from the training-completed topic and normalises it; never throws. */
export function parseTrainingCompleted(ce: unknown): ParseResult<DeliveredTrainingCompleted> {
  return decodeAndParse<TrainingCompleted>(ce, parseTrainingCompletedPayload, 'training-completed');
}

const safeParsePayload = neverThrow(
  'training-completed payload',
  (payload: unknown): ParseResult<TrainingCompleted> => {
    const data = toJsonData(payload);
    if (!data.ok) return data;
    if (looksLikePipelineJobLogEntry(data.value.value))
      return normalisePipelineJobLogEntry(data.value);
    const message = checkJsonData(TrainingCompletedV1Schema, data.value, readTrainingRunKey);
    if (!message.ok) return message;
    return accepted({
      kind: 'training_completed',
      idempotencyKey: trainingRunKey(message.value),
      message: message.value,
    });
  },
);
