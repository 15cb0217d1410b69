/**
 * model-registered v1: internal hand-off from the register step to the deploy
 * step. It carries the run id plus what the deploy step needs to start; the
 * run document stays the source of truth for everything else.
 */
import { Type, type Static } from '@sinclair/typebox';
import { buildChecked, defineContract, readRunIdKey } from './contract.js';
import { DateTime, Id, MAX_URI_CHARS, RunId, SchemaVersion1 } from './fields.js';
import type { ParseResult } from './result.js';
import { validateAgainstSchema } from './validation/validate.js';

/** Pub/Sub topic of model-registered events. */
export const MODEL_REGISTERED_TOPIC = 'model-registered';

/** Schema of a model-registered v1 message. Extra fields are allowed and kept. */
export const ModelRegisteredV1Schema = Type.Object(
  {
    schema_version: SchemaVersion1,
    run_id: RunId,
    registry: Type.Object(
      {
        model: Type.String({
          minLength: 1,
          maxLength: MAX_URI_CHARS,
          description: 'Model Registry resource name, projects/{p}/locations/{l}/models/{id}',
        }),
        version: Id('the model version id in the registry'),
      },
      { description: 'where the model was registered' },
    ),
    registered_at: Type.Optional(DateTime('when the model was registered')),
  },
  {
    $id: 'urn:recdeploy:event:model-registered:v1',
    title: 'model-registered v1',
    description: 'The run’s model is in the Model Registry; the deploy step may start.',
  },
);

/** A validated model-registered v1 message. */
export type ModelRegisteredV1 = Static<typeof ModelRegisteredV1Schema>;

/** The model-registered v1 contract (topic, schema, schema file). */
export const modelRegisteredV1Contract = defineContract(
  MODEL_REGISTERED_TOPIC,
  1,
  ModelRegisteredV1Schema,
);

/** Validates a decoded payload as a model-registered v1 message; never throws. */
export function parseModelRegisteredV1(payload: unknown): ParseResult<ModelRegisteredV1> {
  return validateAgainstSchema(ModelRegisteredV1Schema, payload, readRunIdKey);
}

/** Builds a valid message for publishers (sets schema_version); throws EventContractError if invalid. */
export function buildModelRegisteredV1(
  fields: Omit<ModelRegisteredV1, 'schema_version'>,
): ModelRegisteredV1 {
  return buildChecked(modelRegisteredV1Contract, { ...fields, schema_version: '1' });
}
