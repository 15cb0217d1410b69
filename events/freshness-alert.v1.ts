/**
 * freshness-alert v1: the live model of an endpoint is older than the
 * operator allows (docs/architecture.md "Freshness"). One `breached` message
 * when a breach starts and one `resolved` message when it clears, both with
 * the same `alert_id`. Delivery is at least once: a publish that failed or a
 * reconciler that crashed repeats the message at its next pass with the same
 * `alert_id`, so consumers dedupe on (`alert_id`, `state`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { buildChecked, defineContract } from './contract.js';
import { DateTime, Id, MAX_ID_CHARS, OneOf, RunId, SchemaVersion1, Text } from './fields.js';
import type { ParseResult } from './result.js';
import { readStringField, validateAgainstSchema } from './validation/validate.js';

/** Pub/Sub topic of freshness-alert events. */
export const FRESHNESS_ALERT_TOPIC = 'freshness-alerts';

/** Which limit was passed: the live model's age, or how long a newer run has waited to go live. */
export const FRESHNESS_KINDS = ['max_age', 'max_lag'] as const;

/** A breach starts (`breached`) and ends (`resolved`). */
export const FRESHNESS_STATES = ['breached', 'resolved'] as const;

/** Longest alert id: an endpoint id, the kind and a timestamp. */
const MAX_ALERT_ID_CHARS = MAX_ID_CHARS + 80;
const ALERT_ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,${MAX_ALERT_ID_CHARS - 1}}$`);

/** `{model_endpoint_id}:{kind}:{breached_since}`: stable for one breach, new for the next. */
const AlertId = Type.String({
  minLength: 1,
  maxLength: MAX_ALERT_ID_CHARS,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$',
  description:
    'the breach: {model_endpoint_id}:{kind}:{breached_since}; the same in its breached and resolved messages',
});

/** Schema of a freshness-alert v1 message. Extra fields are allowed and kept. */
export const FreshnessAlertV1Schema = Type.Object(
  {
    schema_version: SchemaVersion1,
    alert_id: AlertId,
    model_endpoint_id: Id('the serving endpoint'),
    kind: OneOf(FRESHNESS_KINDS, {
      description:
        "max_age: the live run's training ended longer ago than the threshold; max_lag: a newer training run has not gone live within the threshold",
    }),
    state: OneOf(FRESHNESS_STATES),
    threshold_s: Type.Integer({ minimum: 1, description: 'the limit, in seconds' }),
    breached_since: DateTime('when the limit was passed (training end + threshold)'),
    resolved_at: Type.Optional(DateTime('when the breach was seen cleared (resolved only)')),
    live_run_id: Type.Optional(RunId),
    live_training_completed_at: Type.Optional(
      DateTime("when the live run's training ended (its created time when it has none)"),
    ),
    newest_run_id: Type.Optional(RunId),
    newest_training_completed_at: Type.Optional(
      DateTime('when the oldest run that waits to go live ended training (max_lag)'),
    ),
    newest_run_status: Type.Optional(
      Type.String({ minLength: 1, maxLength: 32, description: 'that run status (max_lag)' }),
    ),
    detail: Text('one line saying what is stale and by how much'),
  },
  {
    $id: 'urn:recdeploy:event:freshness-alert:v1',
    title: 'freshness-alert v1',
    description:
      "An endpoint's live model passed, or is back within, the operator's freshness limit.",
  },
);

/** A validated freshness-alert v1 message. */
export type FreshnessAlertV1 = Static<typeof FreshnessAlertV1Schema>;

/** The freshness-alert v1 contract; its topic is plural (`freshness-alerts`), unlike its name. */
export const freshnessAlertV1Contract = {
  ...defineContract('freshness-alert', 1, FreshnessAlertV1Schema),
  topic: FRESHNESS_ALERT_TOPIC,
};

/** Validates a decoded payload as a freshness-alert v1 message; never throws. */
export function parseFreshnessAlertV1(payload: unknown): ParseResult<FreshnessAlertV1> {
  return validateAgainstSchema(FreshnessAlertV1Schema, payload, (data) =>
    readStringField(data, 'alert_id', ALERT_ID_PATTERN),
  );
}

/** Builds a valid message for publishers (sets schema_version); throws EventContractError if invalid. */
export function buildFreshnessAlertV1(
  fields: Omit<FreshnessAlertV1, 'schema_version'>,
): FreshnessAlertV1 {
  return buildChecked(freshnessAlertV1Contract, { ...fields, schema_version: '1' });
}
