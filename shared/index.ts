/**
 * @recdeploy/shared: domain, ports, configuration, logging and errors. Cloud
 * and embedded adapters are separate entry points (`@recdeploy/shared/gcp`,
 * `@recdeploy/shared/local`) so a deployable loads only the SDKs it uses.
 */
export * from './errors.js';
export * from './logging/logger.port.js';
export * from './logging/recording-logger.js';
export * from './domain/run-document.js';
export * from './ports/run-store.port.js';
export * from './ports/event-bus.port.js';
export * from './logging/cloud-logger.js';
export * from './logging/event-logger.js';
export * from './config/env-reader.js';
export * from './config/runtime-config.js';
export * from './domain/run-state-machine.js';
export * from './domain/run-supersession.js';
export * from './domain/run-document-bounds.js';
export * from './domain/run-commands.js';
export * from './domain/step-commands.js';
export * from './domain/service-lease.js';
export * from './domain/run-queries.js';
export * from './ports/model-registry.port.js';
export * from './ports/artifact-store.port.js';
export * from './ports/serving-platform.port.js';
export * from './ports/index-builds.port.js';
export * from './ports/pipeline-jobs.port.js';
export * from './domain/registry-labels.js';
export * from './domain/routing-policy.js';
export * from './domain/serving-names.js';
export * from './usecases/stored-index.js';
export * from './config/function-deployment.js';
export * from './domain/serving-record.js';
export * from './domain/step-hand-off.js';
export * from './domain/operator-commands.js';
export * from './domain/rollout-plan.js';
export * from './domain/deployment-policy.js';
export * from './domain/resource-quantities.js';
export * from './domain/canary-state.js';
export * from './domain/canary-machine.js';
export * from './domain/canary-analysis.js';
export * from './domain/canary-commands.js';
export * from './ports/revision-metrics.port.js';
export * from './domain/freshness.js';
