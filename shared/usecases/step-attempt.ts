/**
 * The delivery rules every step follows (DESIGN.md §4), in one place:
 * claim the step before any side effect; a duplicate of a finished step is a
 * no-op (2xx); a step still held elsewhere, or whose previous step has not
 * finished, answers non-2xx so the message comes back; a failed attempt is
 * recorded, and only passing failures are retried.
 */
import { TransientError, toRecdeployError, truncateText, type RecdeployError } from '../errors.js';
import type { RunDocument, RunPatch, StepName } from '../domain/run-document.js';
import type { Logger } from '../logging/logger.port.js';
import type { RunStore } from '../ports/run-store.port.js';
import type { LeaseSettings } from '../config/chain-config.js';

export interface StepAttempt {
  readonly run: RunDocument;
  readonly attempt: number;
  readonly owner: string;
  readonly step: StepName;
  readonly eventId: string;
}

/** Claimed: go ahead. Otherwise the run as found, and whether the step already succeeded. */
export type ClaimOutcome =
  | { readonly kind: 'claimed'; readonly attempt: StepAttempt }
  | { readonly kind: 'done' | 'closed'; readonly run: RunDocument };

/**
 * Claims `step` of `runId`.
 * @throws TransientError `RUN.STEP_BUSY` when another attempt holds the step
 *   or the previous step has not finished (the bus redelivers later).
 */
export async function claimStep(
  store: RunStore,
  request: { runId: string; step: StepName; eventId: string; instanceId: string; leaseMs: number },
): Promise<ClaimOutcome> {
  const owner = `${request.step}/${request.eventId}/${request.instanceId}`;
  const result = await store.claimStep({
    runId: request.runId,
    step: request.step,
    owner,
    leaseMs: request.leaseMs,
    eventId: request.eventId,
  });
  switch (result.kind) {
    case 'claimed':
      return {
        kind: 'claimed',
        attempt: {
          run: result.run,
          attempt: result.attempt,
          owner,
          step: request.step,
          eventId: request.eventId,
        },
      };
    case 'busy':
      throw new TransientError(
        'RUN.STEP_BUSY',
        `${request.step} of run ${request.runId} is held by another attempt until ${result.leaseExpiresAt}`,
        { metadata: { runId: request.runId, step: request.step } },
      );
    case 'not_ready':
      throw new TransientError(
        'RUN.STEP_BUSY',
        `${request.step} of run ${request.runId} cannot start: the run is ${result.run.status}`,
        { metadata: { runId: request.runId, step: request.step, status: result.run.status } },
      );
    case 'done':
    case 'closed':
      return { kind: result.kind, run: result.run };
  }
}

/** Finishes the claimed step; returns the run as stored. */
export async function completeAttempt(
  store: RunStore,
  attempt: StepAttempt,
  patch?: RunPatch,
): Promise<RunDocument> {
  const result = await store.completeStep({
    runId: attempt.run.runId,
    step: attempt.step,
    owner: attempt.owner,
    eventId: attempt.eventId,
    ...(patch === undefined ? {} : { patch }),
  });
  return result.run;
}

/**
 * Records a failed attempt. Permanent errors end the run (failed, or skipped
 * with `endAs`) and return the stored run so the caller can announce it;
 * passing errors release the step and are rethrown so the bus redelivers.
 */
export async function failAttempt(
  store: RunStore,
  logger: Logger,
  attempt: StepAttempt,
  error: unknown,
  options: { patch?: RunPatch; endAs?: 'failed' | 'skipped' } = {},
): Promise<RunDocument> {
  const failure: RecdeployError = toRecdeployError(error);
  // The run id is already on the caller's logger.
  const fields = {
    step: attempt.step,
    attempt: attempt.attempt,
    code: failure.code,
    retryable: failure.retryable,
  };
  const meta = { ...fields, error: failure.message };
  if (failure.retryable) logger.warn(`${attempt.step} attempt failed; will retry`, meta);
  else if (options.endAs === 'skipped') logger.info(`${attempt.step}: run skipped`, meta);
  else logger.error(`${attempt.step} failed`, meta);
  const result = await store.failStep({
    runId: attempt.run.runId,
    step: attempt.step,
    owner: attempt.owner,
    eventId: attempt.eventId,
    error: { code: failure.code, message: truncateText(failure.message, 2000) },
    permanent: !failure.retryable,
    ...(options.endAs === undefined ? {} : { endAs: options.endAs }),
    ...(options.patch === undefined ? {} : { patch: options.patch }),
  });
  if (failure.retryable) throw failure;
  return result.run;
}

/** What a step attempt tells its heartbeat about the per-service lease. */
export interface Heartbeat {
  /** From now on, renew the service lease too (the attempt holds it). */
  holdService(service: string): void;
  /**
   * Stop renewing the service lease, and wait for a beat in flight, before
   * the attempt releases it or hands it on with another lifetime: otherwise
   * a late beat could take it again after the release.
   */
  letGoService(): Promise<void>;
}

/**
 * Runs `work` while renewing the attempt's step lease (and the service
 * lease, while `holdService` says it is held) every heartbeat, so the leases
 * outlive a slow step but lapse within one lifetime of a crash. A renewal
 * that finds the step taken over stops the heartbeat: the attempt's final
 * write then fails with RUN.LEASE_LOST and its message comes back to find
 * the outcome. A store that cannot be reached for a beat is retried on the
 * next beat; the lease lifetime covers two missed beats.
 */
export async function withHeartbeat<T>(
  deps: { readonly runStore: RunStore; readonly logger: Logger; readonly leases: LeaseSettings },
  attempt: StepAttempt,
  work: (heartbeat: Heartbeat) => Promise<T>,
): Promise<T> {
  let service: string | undefined;
  let lost = false;
  let beating: Promise<void> | undefined;
  const beat = async (): Promise<void> => {
    try {
      await deps.runStore.renewStepLease({
        runId: attempt.run.runId,
        step: attempt.step,
        owner: attempt.owner,
        leaseMs: deps.leases.ttlMs,
      });
      if (service !== undefined) {
        await deps.runStore.acquireServiceLease({
          service,
          runId: attempt.run.runId,
          ttlMs: deps.leases.ttlMs,
        });
      }
    } catch (error) {
      const failure = toRecdeployError(error);
      if (failure.code === 'RUN.LEASE_LOST') {
        lost = true;
        clearInterval(timer);
      }
      deps.logger.warn('lease heartbeat failed', { step: attempt.step, code: failure.code });
    }
  };
  const timer = setInterval(() => {
    // One beat at a time: a slow store must not pile renewals up.
    beating ??= beat().finally(() => {
      beating = undefined;
    });
  }, deps.leases.heartbeatMs);
  // A heartbeat never keeps a process alive on its own.
  timer.unref();
  try {
    return await work({
      holdService(name) {
        if (!lost) service = name;
      },
      async letGoService() {
        service = undefined;
        await beating;
      },
    });
  } finally {
    clearInterval(timer);
  }
}
