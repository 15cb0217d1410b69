/**
 * What the deploy and verify steps do first with a hand-off event: validate
 * it (an invalid one is recorded and acknowledged), then claim the step of the
 * run it names (a run nobody created is recorded and acknowledged too: it can
 * never appear from a redelivery).
 */
import type { DeliveredEvent, ParseResult } from '@recdeploy/events';
import type { StepName } from '../domain/run-document.js';
import type { Logger } from '../logging/logger.port.js';
import type { RunStore } from '../ports/run-store.port.js';
import type { ChainConfig } from '../config/chain-config.js';
import { recordRejection, sourceOf } from './rejected-events.js';
import { claimStep, type ClaimOutcome } from './step-attempt.js';

export interface HandOffClaim {
  readonly claim: ClaimOutcome;
  /** The caller's logger, bound to the run and the event. */
  readonly logger: Logger;
}

/** The claim of `step` for the run a hand-off names, or undefined when the event was recorded as rejected. */
export async function claimStepOfHandOff(
  deps: { runStore: RunStore; logger: Logger; instanceId: string; config: ChainConfig },
  cloudEvent: unknown,
  parsed: ParseResult<DeliveredEvent<unknown>>,
  step: StepName,
  what: string,
): Promise<HandOffClaim | undefined> {
  const where = sourceOf(cloudEvent);
  if (!parsed.ok) {
    await recordRejection(deps, parsed.rejection, where);
    return undefined;
  }
  const runId = parsed.value.idempotencyKey;
  const eventId = parsed.value.delivery.eventId;
  try {
    const claim = await claimStep(deps.runStore, {
      runId,
      step,
      eventId,
      instanceId: deps.instanceId,
      leaseMs: deps.config.leases.ttlMs,
    });
    return { claim, logger: deps.logger.child({ runId, eventId }) };
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'RUN.NOT_FOUND') throw error;
    await recordRejection(
      deps,
      { code: 'EVENT.INVALID', reason: `${what} for unknown run ${runId}`, eventId },
      where,
    );
    return undefined;
  }
}
