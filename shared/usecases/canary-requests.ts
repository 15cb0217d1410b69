/**
 * An operator's `recdeploy promote <run>` / `recdeploy abort <run>`: the
 * request is written into the run's canary state (compare-and-set, retried
 * when a tick wrote first), and the next canary tick carries it out, so the
 * request survives the operator's process and any crash in between.
 */
import { PermanentError } from '../errors.js';
import { requestCanaryAction } from '../domain/canary-machine.js';
import type { RunDocument } from '../domain/run-document.js';
import type { ChainDeps } from './chain-deps.js';

export type CanaryRequestDeps = Pick<ChainDeps, 'runStore' | 'logger'>;

export interface CanaryActionRequest {
  readonly runId: string;
  readonly action: 'promote' | 'abort';
  /** Who asks, for the history and the outcome (e.g. "recdeploy abort by alice"). */
  readonly requestedBy: string;
}

/** Writes at most this many times when ticks keep moving the canary meanwhile. */
const ATTEMPTS = 5;

/**
 * Records the request; answers the run as stored with it.
 * @throws PermanentError RUN.NOT_FOUND; RUN.NOT_CANARY (the run is not in
 *   a canary now, with its status); RUN.CANARY_ENDED (already being promoted
 *   or aborted).
 */
export async function requestCanary(
  deps: CanaryRequestDeps,
  request: CanaryActionRequest,
  clock: () => Date = () => new Date(),
): Promise<RunDocument> {
  for (let attempt = 1; ; attempt += 1) {
    const run = await deps.runStore.getRun(request.runId);
    if (run === undefined) {
      throw new PermanentError('RUN.NOT_FOUND', `run ${request.runId} does not exist`, {
        metadata: { runId: request.runId },
      });
    }
    if (run.status !== 'canary' || run.canary === undefined) {
      throw new PermanentError('RUN.NOT_CANARY', notInCanary(run, request.action), {
        metadata: { runId: run.runId, status: run.status },
      });
    }
    const now = clock();
    const next = requestCanaryAction(
      run.canary,
      { action: request.action, at: now.toISOString(), by: request.requestedBy },
      now,
    );
    const result = await deps.runStore.updateCanary({
      runId: run.runId,
      expectSeq: run.canary.seq,
      canary: next,
      now,
    });
    if (result.updated) {
      deps.logger.info('canary request recorded', { runId: run.runId, action: request.action });
      return result.run;
    }
    if (attempt >= ATTEMPTS) {
      throw new PermanentError(
        'STORE.CONFLICT',
        `the canary of run ${run.runId} kept moving while the ${request.action} was being recorded (${ATTEMPTS} tries); try again`,
      );
    }
  }
}

function notInCanary(run: RunDocument, action: string): string {
  const ended = run.canary?.outcome;
  if (ended !== undefined) {
    return `run ${run.runId} is ${run.status}: its canary was ${ended.result} (${ended.reason}); nothing to ${action}`;
  }
  return `run ${run.runId} is ${run.status}, not in a canary rollout; nothing to ${action}`;
}
