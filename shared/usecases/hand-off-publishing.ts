/**
 * Publishing the message that starts a step (its hand-off) outside the
 * normal flow: after a duplicate delivery found the previous step finished,
 * from the reconciler, or for an operator's retry. The store grants at most
 * one such publish per window and records who asked in the run's history,
 * so duplicates cannot fan out (DESIGN.md §4 "Convergence and truth").
 */
import type { RunDocument, StepName } from '../domain/run-document.js';
import type { ClaimHandOffResult } from '../ports/run-store.port.js';
import type { ChainDeps } from './chain-deps.js';
import {
  publishModelDeployed,
  publishModelRegistered,
  publishTrainingCompleted,
} from './chain-events.js';

type Publisher = Pick<ChainDeps, 'eventBus' | 'config' | 'logger' | 'runStore'>;

/** Publishes the message that starts `step` of `run`, unconditionally. */
export async function publishHandOff(
  deps: Omit<Publisher, 'runStore'>,
  run: RunDocument,
  step: StepName,
): Promise<void> {
  switch (step) {
    case 'register':
      return publishTrainingCompleted(deps, run);
    case 'deploy':
      return publishModelRegistered(deps, run);
    case 'verify':
      return publishModelDeployed(deps, run);
  }
}

/**
 * Publishes `step`'s hand-off if the store grants it now (the run waits for
 * that step, no attempt holds it, none went out within the window).
 */
export async function republishHandOff(
  deps: Publisher,
  request: { runId: string; step: StepName; reason: string; windowMs?: number; eventId?: string },
): Promise<ClaimHandOffResult> {
  const claim = await deps.runStore.claimHandOff({
    runId: request.runId,
    step: request.step,
    windowMs: request.windowMs ?? deps.config.leases.handOffWindowMs,
    reason: request.reason,
    ...(request.eventId === undefined ? {} : { eventId: request.eventId }),
  });
  if (claim.kind === 'claimed') await publishHandOff(deps, claim.run, request.step);
  return claim;
}
