/**
 * deployment-finished v1: the chain's output, for other systems. Says how a
 * run ended (live, failed, rolled_back, skipped), where the model serves, and
 * a summary of the verification. It carries both ids separately because a run
 * id cannot be split back into them reliably (ids may contain "-").
 */
import { Type, type Static } from '@sinclair/typebox';
import { buildChecked, defineContract, readRunIdKey } from './contract.js';
import { DateTime, HttpUrl, Id, OneOf, RunId, SchemaVersion1, Text } from './fields.js';
import type { ParseResult } from './result.js';
import { validateAgainstSchema } from './validation/validate.js';
import { VerificationSummaryV1Schema } from './verification-summary.v1.js';

/** Pub/Sub topic of deployment-finished events. */
export const DEPLOYMENT_FINISHED_TOPIC = 'deployment-finished';

/** How a run can end. */
export const DEPLOYMENT_OUTCOMES = ['live', 'failed', 'rolled_back', 'skipped'] as const;

/**
 * What the platform observes serving on the run's service when the message is
 * sent (the service's serving record): added in v1 as an optional field, so
 * existing consumers are unaffected. A consumer that must know what serves
 * reads this, not `outcome`: after a rollback, for example, the run that
 * serves again is announced `live` and the run it displaced `rolled_back`.
 */
export const ServingNowV1Schema = Type.Object(
  {
    service: Id('the serving service'),
    revision: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'the revision with the traffic' }),
    ),
    run_id: Type.Optional(RunId),
    traffic_percent: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100, description: 'its share of the traffic' }),
    ),
    since: Type.Optional(DateTime('since when it serves')),
  },
  { description: 'what serves on the service, as the platform reports it' },
);

/**
 * How the revision took the traffic (added in v1 as an optional field): for
 * a canary, each step's share and verdict and how it ended; an aborted
 * canary's `reason` names the metric, both values and the threshold.
 */
export const RolloutSummaryV1Schema = Type.Object(
  {
    strategy: OneOf(['all-at-once', 'canary'] as const),
    result: Type.Optional(OneOf(['promoted', 'aborted'] as const)),
    reason: Type.Optional(Text('why the canary was promoted or aborted')),
    steps: Type.Optional(
      Type.Array(
        Type.Object({
          percent: Type.Integer({ minimum: 1, maximum: 100, description: "the canary's share" }),
          verdict: Type.Optional(
            OneOf(['passed', 'failed', 'promoted_by_operator', 'aborted_by_operator'] as const),
          ),
          summary: Type.Optional(Text("the step's last judgement")),
        }),
        { maxItems: 10 },
      ),
    ),
  },
  { description: 'how the revision took the traffic' },
);

/** Schema of a deployment-finished v1 message. Extra fields are allowed and kept. */
export const DeploymentFinishedV1Schema = Type.Object(
  {
    schema_version: SchemaVersion1,
    run_id: RunId,
    training_run_id: Id('id of the training run'),
    model_endpoint_id: Id('the serving endpoint'),
    outcome: OneOf(DEPLOYMENT_OUTCOMES),
    reason: Type.Optional(Text('why the run failed, was skipped or rolled back')),
    service_url: Type.Optional(
      HttpUrl('the service URL now serving (absent if nothing was deployed)'),
    ),
    revision: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'the Cloud Run revision' }),
    ),
    verification: Type.Optional(VerificationSummaryV1Schema),
    finished_at: Type.Optional(DateTime('when the run ended')),
    serving_now: Type.Optional(ServingNowV1Schema),
    rollout: Type.Optional(RolloutSummaryV1Schema),
  },
  {
    $id: 'urn:recdeploy:event:deployment-finished:v1',
    title: 'deployment-finished v1',
    description: 'A run reached its final state.',
  },
);

/** A validated deployment-finished v1 message. */
export type DeploymentFinishedV1 = Static<typeof DeploymentFinishedV1Schema>;

/** The deployment-finished v1 contract (topic, schema, schema file). */
export const deploymentFinishedV1Contract = defineContract(
  DEPLOYMENT_FINISHED_TOPIC,
  1,
  DeploymentFinishedV1Schema,
);

/** Validates a decoded payload as a deployment-finished v1 message; never throws. */
export function parseDeploymentFinishedV1(payload: unknown): ParseResult<DeploymentFinishedV1> {
  return validateAgainstSchema(DeploymentFinishedV1Schema, payload, readRunIdKey);
}

/** Builds a valid message for publishers (sets schema_version); throws EventContractError if invalid. */
export function buildDeploymentFinishedV1(
  fields: Omit<DeploymentFinishedV1, 'schema_version'>,
): DeploymentFinishedV1 {
  return buildChecked(deploymentFinishedV1Contract, { ...fields, schema_version: '1' });
}
