/**
 * How the Cloud Run fake serves each RPC: the request recorded exactly as it
 * arrived, hooks a test set for the next call, and failures it injected
 * (before the work, or after it: the caller cannot tell whether it happened).
 */
import type * as grpc from '@grpc/grpc-js';
import { serviceError, type Callback } from './grpc-fake-server.js';

/** One RPC as the fake received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly request: unknown;
  /** The error code the fake answered with, if it did. */
  readonly errorCode?: number;
}

interface InjectedFailure {
  readonly code: grpc.status;
  readonly details: string;
  /** Do the work first, then answer the error: the caller cannot tell whether it happened. */
  readonly afterApplying: boolean;
}

export class RecordedCalls {
  readonly requests: RecordedRequest[] = [];
  private readonly failures = new Map<string, InjectedFailure[]>();
  private readonly hooks = new Map<string, (() => void)[]>();

  /** Answers the next call of `method` with `code` (after doing the work, when `afterApplying`). */
  failNext(method: string, code: grpc.status, details: string, afterApplying: boolean): void {
    const queue = this.failures.get(method) ?? [];
    queue.push({ code, details, afterApplying });
    this.failures.set(method, queue);
  }

  /** Runs `hook` when the next call of `method` arrives, before it is served. */
  beforeNext(method: string, hook: () => void): void {
    const queue = this.hooks.get(method) ?? [];
    queue.push(hook);
    this.hooks.set(method, queue);
  }

  /** A unary handler that records the request, runs hooks and injected failures, then serves it. */
  unary<Req>(method: string, serve: (request: Req) => unknown) {
    return (call: { request: Req }, callback: Callback<unknown>): void => {
      const request = structuredClone(call.request);
      this.hooks.get(method)?.shift()?.();
      const failure = this.failures.get(method)?.shift();
      const record = (errorCode?: number) =>
        this.requests.push({ method, request, ...(errorCode !== undefined && { errorCode }) });
      if (failure && !failure.afterApplying) {
        record(failure.code);
        callback(serviceError(failure.code, failure.details));
        return;
      }
      try {
        const response = serve(call.request);
        if (failure) {
          record(failure.code);
          callback(serviceError(failure.code, failure.details));
          return;
        }
        record();
        callback(null, structuredClone(response));
      } catch (error) {
        const code = (error as grpc.ServiceError).code;
        record(code);
        callback(error as grpc.ServiceError);
      }
    };
  }
}
