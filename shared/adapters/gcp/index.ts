/** Google Cloud adapters. Clients are created on first use, never at import. */

export * from './pubsub-event-bus.js';
export * from './firestore-run-mapping.js';
export * from './firestore-run-store.js';
export * from './google-api-errors.js';
export * from './gcs-artifact-store.js';
export * from './pipeline-job-outputs.js';
export * from './vertex-pipeline-jobs.js';
export * from './vertex-model-registry.js';
export * from './cloud-run-service-spec.js';
export * from './cloud-run-platform.js';
export * from './cloud-run-index-builds.js';
export * from './cloud-monitoring-metrics.js';
export * from './id-token-headers.js';
export * from './pushed-metrics.js';
