/**
 * @recdeploy/shared/chain: the three steps of the deployment chain as use
 * cases (one per function), what they depend on, and the configuration.
 * Adapters are picked by shared/wiring/create-chain-deps.ts.
 */
export * from './chain-deps.js';
export * from './register-run.js';
export * from './deploy-run.js';
export * from './verify-run.js';
export * from './chain-events.js';
export * from './serving-container.js';
export * from './run-identity.js';
export * from '../config/chain-config.js';
export * from './rollback-service.js';
export * from './reconcile-runs.js';
export * from './hand-off-publishing.js';
export * from './operator-requests.js';
export * from './step-attempt.js';
export * from './advance-canary.js';
export * from './canary-ticks.js';
export * from './start-canary.js';
export * from './canary-requests.js';
