/**
 * CloudEvent-level parsers for the events the chain publishes to itself and
 * to others. Each decodes the Pub/Sub CloudEvent, validates the payload
 * against its v1 contract, and keys it by run id: each topic triggers one
 * step of one run, so the run id identifies the work.
 */
import { decodeAndParse, keyedByRunId, type DeliveredEvent } from './delivered.js';
import { parseDeploymentFinishedV1, type DeploymentFinishedV1 } from './deployment-finished.v1.js';
import { parseModelDeployedV1, type ModelDeployedV1 } from './model-deployed.v1.js';
import { parseModelRegisteredV1, type ModelRegisteredV1 } from './model-registered.v1.js';
import type { ParseResult } from './result.js';

/** Decodes and validates a model-registered delivery; never throws. */
export function parseModelRegistered(ce: unknown): ParseResult<DeliveredEvent<ModelRegisteredV1>> {
  return decodeAndParse(ce, keyedByRunId(parseModelRegisteredV1), 'model-registered');
}

/** Decodes and validates a model-deployed delivery; never throws. */
export function parseModelDeployed(ce: unknown): ParseResult<DeliveredEvent<ModelDeployedV1>> {
  return decodeAndParse(ce, keyedByRunId(parseModelDeployedV1), 'model-deployed');
}

/** Decodes and validates a deployment-finished delivery; never throws. */
export function parseDeploymentFinished(
  ce: unknown,
): ParseResult<DeliveredEvent<DeploymentFinishedV1>> {
  return decodeAndParse(ce, keyedByRunId(parseDeploymentFinishedV1), 'deployment-finished');
}
