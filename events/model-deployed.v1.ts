/**
 * model-deployed v1: internal hand-off from the deploy step to the verify
 * step. A new Cloud Run revision exists with 0% traffic behind a tag URL; the
 * verify step tests that URL and then moves traffic (or not).
 */
import { Type, type Static } from '@sinclair/typebox';
import { buildChecked, defineContract, readRunIdKey } from './contract.js';
import { DateTime, HttpUrl, MAX_URI_CHARS, RunId, SchemaVersion1 } from './fields.js';
import type { ParseResult } from './result.js';
import { validateAgainstSchema } from './validation/validate.js';

/** Pub/Sub topic of model-deployed events. */
export const MODEL_DEPLOYED_TOPIC = 'model-deployed';

/** Schema of a model-deployed v1 message. Extra fields are allowed and kept. */
export const ModelDeployedV1Schema = Type.Object(
  {
    schema_version: SchemaVersion1,
    run_id: RunId,
    service: Type.String({
      minLength: 1,
      maxLength: MAX_URI_CHARS,
      description: 'the Cloud Run service (name or full resource name)',
    }),
    revision: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[a-z0-9][a-z0-9-]*$',
      description: 'a Cloud Run revision name: lowercase letters, digits and "-"',
    }),
    tag_url: HttpUrl('the URL that reaches only the new revision'),
    runtime: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[a-z][a-z0-9_-]*$',
      description: 'the serving runtime chosen by the routing policy',
    }),
    deployed_at: Type.Optional(DateTime('when the revision became ready')),
  },
  {
    $id: 'urn:recdeploy:event:model-deployed:v1',
    title: 'model-deployed v1',
    description: 'A new revision serves the run’s model at a tag URL with 0% traffic; verify it.',
  },
);

/** A validated model-deployed v1 message. */
export type ModelDeployedV1 = Static<typeof ModelDeployedV1Schema>;

/** The model-deployed v1 contract (topic, schema, schema file). */
export const modelDeployedV1Contract = defineContract(
  MODEL_DEPLOYED_TOPIC,
  1,
  ModelDeployedV1Schema,
);

/** Validates a decoded payload as a model-deployed v1 message; never throws. */
export function parseModelDeployedV1(payload: unknown): ParseResult<ModelDeployedV1> {
  return validateAgainstSchema(ModelDeployedV1Schema, payload, readRunIdKey);
}

/** Builds a valid message for publishers (sets schema_version); throws EventContractError if invalid. */
export function buildModelDeployedV1(
  fields: Omit<ModelDeployedV1, 'schema_version'>,
): ModelDeployedV1 {
  return buildChecked(modelDeployedV1Contract, { ...fields, schema_version: '1' });
}
