/**
 * @recdeploy/events: the event contracts of recdeploy. TypeBox schemas (from
 * which the JSON Schema files in `schemas/` and the TypeScript types are
 * derived), parsers that never throw, builders for publishers, and the
 * decoding of Eventarc / Pub/Sub deliveries. Depends on nothing of ours.
 */
export {
  accepted,
  excerptOf,
  ignored,
  invalid,
  MAX_EXCERPT_CHARS,
  REJECTION_CODES,
  withContext,
  type EventRejection,
  type ParseResult,
  type Rejected,
  type RejectionCode,
  type RejectionContext,
} from './result.js';
export { MAX_EVENT_DATA_BYTES } from './validation/json-data.js';
export { ID_PATTERN, MAX_ID_CHARS, MAX_TEXT_CHARS, MAX_URI_CHARS } from './fields.js';
export { EventContractError, type EventContract } from './contract.js';
export {
  AUDIT_LOG_TYPE,
  AUDIT_LOG_WRITTEN_TYPE,
  describePayload,
  PAYLOAD_KINDS,
  type PayloadDescription,
} from './payload-kind.js';
export { explainHttpRejection } from './explain-rejection.js';

export * from './training-completed.v1.js';
export * from './deployment-config.v1.js';
export * from './model-registered.v1.js';
export * from './model-deployed.v1.js';
export * from './deployment-finished.v1.js';
export * from './verification-summary.v1.js';
export * from './freshness-alert.v1.js';
export {
  looksLikePipelineJobLogEntry,
  PIPELINE_JOB_RESOURCE_TYPE,
  PIPELINE_JOB_SUCCEEDED,
  PipelineJobLogEntrySchema,
  type PipelineJobLogEntry,
  type PipelineJobToResolve,
} from './pipeline-job-log-entry.js';
export * from './training-completed-input.js';
export * from './handoff-events.js';
export {
  decodeAndParse,
  type DeliveredEvent,
  type KeyedEvent,
  type WithDelivery,
} from './delivered.js';
export {
  EVENT_CONTRACTS,
  JSON_SCHEMA_DIALECT,
  renderSchemaFiles,
  type SchemaFile,
} from './schema-files.js';

export {
  decodePubSubCloudEvent,
  MESSAGE_PUBLISHED_TYPE,
  type PubSubDelivery,
  type PubSubMessageMeta,
} from './envelope/pubsub-cloudevent.js';
export type { PubSubMessageFields } from './envelope/pubsub-message.js';
export { decodeHttpDelivery, BINARY_MODE_HEADERS } from './envelope/http-delivery.js';
export { MAX_DELIVERY_BYTES, type DeliveryHeaders } from './envelope/http-request.js';
export { MAX_EVENT_ID_CHARS, type CloudEventLike } from './envelope/cloudevent.js';
