/** Embedded adapters: the real program on one machine (SQLite, files, processes). */
export * from './sqlite-database.js';
export * from './sqlite-run-store.js';
export { RUN_STORE_SCHEMA_VERSION } from './sqlite-run-store-schema.js';
export * from './local-event-bus.js';
export {
  PUSH_SUBSCRIPTION_DEFAULTS,
  type PushSubscriptionOptions,
} from './local-event-bus-validation.js';
export type {
  DeadLetter,
  LocalEventBusStats,
  SubscriptionStats,
} from './local-event-bus-inspection.js';
export * from './delivery-backoff.js';
export type { SubscriptionSettings } from './local-event-bus-topology.js';
export * from './local-artifact-store.js';
export * from './local-model-registry.js';
export * from './local-process-platform.js';
export * from './local-revision-metrics.js';
export { REVISION_HEADER, ROUTER_HEADER } from './local-router-forward.js';
export { ROUTER_METRICS_FLUSH_MS } from './local-router-metrics.js';
export * from './local-serving-command.js';
export * from './local-index-builds.js';
export { isProcessAlive } from './local-revision-process.js';
