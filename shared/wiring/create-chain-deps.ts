/**
 * The composition root of the deployment chain (`@recdeploy/shared/chain-wiring`):
 * the chain's adapters for the configured backend (chain-deps-factory.ts)
 * and the use cases wrapped as functions-framework handlers: as HTTP
 * handlers that decode the CloudEvent themselves (http-delivery-handler.ts,
 * what the functions register), or as CloudEvent handlers.
 */
import type { ChainDeps } from '../usecases/chain-deps.js';
import { chainRuntime, type ChainStep } from './chain-runtime.js';

export { chainDepsFor, closeChainDeps, createChainDeps } from './chain-deps-factory.js';
export { chainRuntime, type ChainRuntime, type ChainStep } from './chain-runtime.js';
export { chainHttpHandler, type DeliveryRequest } from './http-delivery-handler.js';

/**
 * A use case as a functions-framework CloudEvent handler. Configuration is
 * read now, at cold start; adapters are created on the first event.
 * Resolving acknowledges the message; throwing answers 500 and the bus
 * redelivers it (chain-runtime.ts). `reconcile` is not a step of the chain
 * but is wired the same way: its use case ignores the event (a scheduler
 * tick) and runs one pass.
 */
export function chainHandler(
  step: ChainStep,
  useCase: (deps: ChainDeps, cloudEvent: unknown) => Promise<void>,
  env: NodeJS.ProcessEnv = process.env,
): (cloudEvent: unknown) => Promise<void> {
  const runtime = chainRuntime(step, env);
  return (cloudEvent) => runtime.run((deps) => useCase(deps, cloudEvent));
}
