/**
 * How the local stack hears "stop": SIGINT (Ctrl-C) or SIGTERM, however it is
 * delivered. A terminal signals the whole process group, and a launcher that
 * runs the CLI as a child may pass the same Ctrl-C on again, so the one
 * process can see one request twice within milliseconds: signals that come
 * within SAME_REQUEST_MS of the first are that same request. A signal after
 * that, while the stop is still going on, is a person insisting: it forces
 * the stop. Handlers stay installed for the life of the process (a `once`
 * handler left the second signal to Node's default, which killed the stack
 * mid-stop and left its children and stack.json behind).
 */

/** Signals closer together than this are one request (a group signal plus a forwarded copy). */
export const SAME_REQUEST_MS = 1_000;

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** What listening needs of the process. */
export interface SignalSource {
  on(event: StopSignal, listener: () => void): unknown;
  off(event: StopSignal, listener: () => void): unknown;
}

export interface StopSignals {
  /** Aborted at the first signal; long start-up phases race against it. */
  readonly signal: AbortSignal;
  /** Resolves with the first signal. */
  readonly requested: Promise<StopSignal>;
  /** Removes the handlers (tests; the CLI keeps them until it exits). */
  dispose(): void;
}

export function watchStopSignals(options: {
  /** A later signal while the stop is under way. */
  readonly onInsist: (signal: StopSignal) => void;
  readonly sameRequestMs?: number;
  readonly now?: () => number;
  /** Where signals are heard: the process (tests pass an emitter of their own). */
  readonly source?: SignalSource;
}): StopSignals {
  const source = options.source ?? process;
  const now = options.now ?? Date.now;
  const window = options.sameRequestMs ?? SAME_REQUEST_MS;
  const controller = new AbortController();
  let first: number | undefined;
  let resolveRequested: (signal: StopSignal) => void = () => undefined;
  const requested = new Promise<StopSignal>((resolve) => (resolveRequested = resolve));
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = (): void => {
      const at = now();
      if (first === undefined) {
        first = at;
        controller.abort(new StopRequested(name));
        resolveRequested(name);
      } else if (at - first >= window) {
        options.onInsist(name);
      }
    };
    source.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    requested,
    dispose() {
      for (const [name, handler] of handlers) source.off(name, handler);
    },
  };
}

/** Thrown out of a start that a signal interrupted (the stack has been stopped). */
export class StopRequested extends Error {
  constructor(readonly signalName: StopSignal) {
    super(`stopped by ${signalName}`);
    this.name = 'StopRequested';
  }
}

/** Resolves or rejects as `work` does, or rejects with the abort reason as soon as `signal` is aborted. */
export function unlessStopped<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
