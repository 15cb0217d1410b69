/** training-completed v1 (snake_case, on the wire) → the run document's identity (camelCase). */
import { buildTrainingCompletedV1, type TrainingCompletedV1 } from '@recdeploy/events';
import { rolloutRequestOf, wireRolloutOf } from '../config/rollout-wire.js';
import type { DeploymentConfig, RunIdentity } from '../domain/run-document.js';

export function runIdentityOf(message: TrainingCompletedV1): RunIdentity {
  const config = message.deployment_config;
  return {
    trainingRunId: message.training_run_id,
    modelEndpointId: message.model_endpoint_id,
    modelSlug: message.model_slug,
    runNumber: message.run_number,
    modelType: message.model_type,
    retrievalAlgorithm: message.retrieval_algorithm,
    artifactUri: message.artifact_uri.replace(/\/+$/, ''),
    isBlessed: message.is_blessed,
    metrics: { ...message.metrics },
    ...(config === undefined ? {} : { deploymentConfig: deploymentConfigOf(config) }),
    ...(message.completed_at === undefined ? {} : { completedAt: message.completed_at }),
  };
}

function deploymentConfigOf(
  config: NonNullable<TrainingCompletedV1['deployment_config']>,
): DeploymentConfig {
  const out: Record<string, unknown> = {
    memory: config.memory,
    cpu: config.cpu,
    minInstances: config.min_instances,
    maxInstances: config.max_instances,
    timeoutS: config.timeout_s,
    concurrency: config.concurrency,
    runtime: config.runtime,
    public: config.public,
    rollout: config.rollout === undefined ? undefined : rolloutRequestOf(config.rollout),
  };
  return Object.fromEntries(Object.entries(out).filter(([, value]) => value !== undefined));
}

/**
 * The training-completed message a run was created from, rebuilt from its
 * identity: what the reconciler or a retry publishes to start the register
 * step again (the original message is not kept).
 */
export function trainingCompletedOf(identity: RunIdentity): TrainingCompletedV1 {
  const config = identity.deploymentConfig;
  return buildTrainingCompletedV1({
    training_run_id: identity.trainingRunId,
    model_endpoint_id: identity.modelEndpointId,
    model_slug: identity.modelSlug,
    run_number: identity.runNumber,
    model_type: identity.modelType,
    retrieval_algorithm: identity.retrievalAlgorithm,
    artifact_uri: identity.artifactUri,
    is_blessed: identity.isBlessed,
    metrics: { ...identity.metrics },
    ...(config === undefined ? {} : { deployment_config: wireConfigOf(config) }),
    ...(identity.completedAt === undefined ? {} : { completed_at: identity.completedAt }),
  });
}

function wireConfigOf(
  config: DeploymentConfig,
): NonNullable<TrainingCompletedV1['deployment_config']> {
  const out: Record<string, unknown> = {
    memory: config.memory,
    cpu: config.cpu,
    min_instances: config.minInstances,
    max_instances: config.maxInstances,
    timeout_s: config.timeoutS,
    concurrency: config.concurrency,
    runtime: config.runtime,
    public: config.public,
    rollout: config.rollout === undefined ? undefined : wireRolloutOf(config.rollout),
  };
  return Object.fromEntries(Object.entries(out).filter(([, value]) => value !== undefined));
}
