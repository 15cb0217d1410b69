/**
 * A request whose client has gone (its connection closed before the answer):
 * whatever work it still needed is dropped, and nothing is written back.
 */

/** Where the abandoned work was dropped (a metric label). */
export type AbandonedStage = 'before_prepare' | 'in_queue' | 'before_encode';

export class RequestAbandonedError extends Error {
  constructor(readonly stage: AbandonedStage) {
    super(`the client went away (${stage}); its work was dropped`);
    this.name = 'RequestAbandonedError';
  }
}

/** Throws RequestAbandonedError when `signal` says the client has gone. */
export function throwIfAbandoned(signal: AbortSignal | undefined, stage: AbandonedStage): void {
  if (signal?.aborted) throw new RequestAbandonedError(stage);
}
