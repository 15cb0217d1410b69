/**
 * training-completed v1: the project's own "a training run finished" message,
 * published by a pipeline's last step or by any other system. snake_case field
 * names, like the platform it replaces. The other accepted shape of this topic
 * (a Vertex AI PipelineJob LogEntry) lives in pipeline-job-log-entry.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { buildChecked, defineContract } from './contract.js';
import { ArtifactUri, DateTime, ID_PATTERN, Id, OneOf, SchemaVersion1 } from './fields.js';
import type { ParseResult } from './result.js';
import { readStringField, validateAgainstSchema } from './validation/validate.js';
import { DeploymentConfigV1Schema } from './deployment-config.v1.js';

/** Pub/Sub topic of training-completed events. */
export const TRAINING_COMPLETED_TOPIC = 'training-completed';

/** Model types the deploy step can route. */
export const MODEL_TYPES = ['retrieval', 'ranking', 'multitask'] as const;
/** Retrieval algorithms: brute_force serves natively; scann and hnsw go to the ANN service. */
export const RETRIEVAL_ALGORITHMS = ['brute_force', 'scann', 'hnsw'] as const;

/** Schema of a training-completed v1 message. Extra fields are allowed and kept. */
export const TrainingCompletedV1Schema = Type.Object(
  {
    schema_version: SchemaVersion1,
    training_run_id: Id('id of the training run, unique per model endpoint'),
    model_endpoint_id: Id('the serving endpoint the model is trained for'),
    model_slug: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9][a-z0-9_-]*$',
      description: 'lowercase letters, digits, "_" and "-"',
    }),
    run_number: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    model_type: OneOf(MODEL_TYPES),
    retrieval_algorithm: OneOf(RETRIEVAL_ALGORITHMS),
    artifact_uri: ArtifactUri,
    is_blessed: Type.Boolean(),
    metrics: Type.Record(Type.String(), Type.Number(), {
      maxProperties: 200,
      description: 'evaluation metrics by name, e.g. recall_at_100',
    }),
    deployment_config: Type.Optional(DeploymentConfigV1Schema),
    completed_at: Type.Optional(DateTime('when training finished')),
  },
  {
    $id: 'urn:recdeploy:event:training-completed:v1',
    title: 'training-completed v1',
    description: 'A training run finished; its pushed model may be deployed.',
  },
);

/** A validated training-completed v1 message. */
export type TrainingCompletedV1 = Static<typeof TrainingCompletedV1Schema>;

/** The training-completed v1 contract (topic, schema, schema file). */
export const trainingCompletedV1Contract = defineContract(
  TRAINING_COMPLETED_TOPIC,
  1,
  TrainingCompletedV1Schema,
);

/** The run id, which is also the idempotency key: `{model_endpoint_id}-{training_run_id}`. */
export function trainingRunKey(
  message: Pick<TrainingCompletedV1, 'model_endpoint_id' | 'training_run_id'>,
): string {
  return `${message.model_endpoint_id}-${message.training_run_id}`;
}

/** Validates a decoded payload as a training-completed v1 message; never throws. */
export function parseTrainingCompletedV1(payload: unknown): ParseResult<TrainingCompletedV1> {
  return validateAgainstSchema(TrainingCompletedV1Schema, payload, readTrainingRunKey);
}

/** Builds a valid message for publishers (sets schema_version); throws EventContractError if invalid. */
export function buildTrainingCompletedV1(
  fields: Omit<TrainingCompletedV1, 'schema_version'>,
): TrainingCompletedV1 {
  return buildChecked(trainingCompletedV1Contract, { ...fields, schema_version: '1' });
}

/** The run key of a message that failed validation, when both ids are still readable. */
export function readTrainingRunKey(data: unknown): string | undefined {
  const endpoint = readStringField(data, 'model_endpoint_id', ID_PATTERN);
  const run = readStringField(data, 'training_run_id', ID_PATTERN);
  return endpoint && run
    ? trainingRunKey({ model_endpoint_id: endpoint, training_run_id: run })
    : undefined;
}
