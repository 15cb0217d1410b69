/**
 * The composition root of the deployment chain (`@recdeploy/shared/chain-wiring`):
 * the chain's adapters for the configured backend (chain-deps-factory.ts)
 * and the use cases wrapped as functions-framework HTTP handlers that decode
 * the CloudEvent themselves (http-delivery-handler.ts, what the functions
 * register).
 */
export { chainDepsFor, closeChainDeps, createChainDeps } from './chain-deps-factory.js';
export { chainRuntime, type ChainRuntime, type ChainStep } from './chain-runtime.js';
export { chainHttpHandler, type DeliveryRequest } from './http-delivery-handler.js';
