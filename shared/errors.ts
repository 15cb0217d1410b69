/**
 * recdeploy's error hierarchy. Every error carries a stable string `code`
 * (callers branch on codes, not on `instanceof`, so errors survive crossing
 * process and package boundaries), a `retryable` decision, the underlying
 * `cause`, and `metadata` that is safe to log and to store in a run document.
 */

/** Stable error codes, namespaced by area. */
export type ErrorCode =
  | 'CONFIG.INVALID'
  | 'EVENT.INVALID'
  | 'EVENT.IGNORED'
  | 'RUN.NOT_FOUND'
  | 'RUN.ILLEGAL_TRANSITION'
  | 'RUN.STEP_BUSY'
  | 'RUN.LEASE_LOST'
  | 'RUN.TOO_LARGE'
  | 'RUN.SUPERSEDED'
  | 'RUN.NOT_BLESSED'
  | 'RUN.NOT_RETRYABLE'
  | 'RUN.NOT_DEPLOYABLE'
  | 'RUN.NOT_CANARY'
  | 'RUN.CANARY_ENDED'
  | 'RUN.CANARY_IN_PROGRESS'
  | 'ROLLOUT.OUTSIDE_POLICY'
  | 'DEPLOY.OUTSIDE_POLICY'
  | 'STORE.UNAVAILABLE'
  | 'STORE.CONFLICT'
  | 'BUS.PUBLISH_FAILED'
  | 'BUS.UNKNOWN_TOPIC'
  | 'DEPENDENCY.UNAVAILABLE'
  | 'INTERNAL'
  | 'INDEX.RECALL_TOO_LOW'
  | 'INDEX.INVALID'
  | 'INDEX.NOT_FOUND'
  | 'INDEX.MISMATCH'
  | 'INDEX.BUILDING'
  | 'BUNDLE.INVALID'
  | 'INPUT.INVALID'
  | 'ARTIFACT.FORBIDDEN'
  | 'ARTIFACT.NOT_FOUND'
  | 'ARTIFACT.TOO_LARGE'
  | 'REGISTRY.REJECTED'
  | 'PIPELINE.NOT_FOUND'
  | 'PIPELINE.NOT_FINISHED'
  | 'PIPELINE.INVALID'
  | 'PLATFORM.CONFLICT'
  | 'PLATFORM.REJECTED'
  | 'PLATFORM.REVISION_FAILED'
  | 'PLATFORM.NOT_FOUND'
  | 'ROUTING.NO_RUNTIME'
  | 'VERIFY.FAILED';

export type ErrorMetadata = Readonly<Record<string, string | number | boolean | null>>;

export interface RecdeployErrorOptions {
  readonly cause?: unknown;
  readonly metadata?: ErrorMetadata;
}

/** Base class: prefer the subclasses, which fix the retry decision. */
export class RecdeployError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly metadata: ErrorMetadata;

  constructor(
    code: ErrorCode,
    message: string,
    retryable: boolean,
    options: RecdeployErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
    this.metadata = options.metadata ?? {};
  }

  /** A plain, loggable and storable form (no stack, bounded message). */
  toJSON(): { code: ErrorCode; message: string; retryable: boolean; metadata: ErrorMetadata } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      metadata: this.metadata,
    };
  }
}

/** Input that can never succeed however often it is retried. */
export class PermanentError extends RecdeployError {
  constructor(code: ErrorCode, message: string, options?: RecdeployErrorOptions) {
    super(code, message, false, options);
  }
}

/** A passing failure (a dependency answered 503, a lease is held): try again later. */
export class TransientError extends RecdeployError {
  constructor(code: ErrorCode, message: string, options?: RecdeployErrorOptions) {
    super(code, message, true, options);
  }
}

/** Configuration that cannot start a deployable; lists every problem at once. */
export class ConfigError extends PermanentError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('CONFIG.INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      metadata: { problems: problems.length },
    });
    this.problems = problems;
  }
}

/**
 * Wraps anything thrown into a RecdeployError. Unknown errors count as
 * retryable: a bug that throws will be retried by the bus and dead-lettered
 * after its attempts run out, which loses nothing, whereas acknowledging an
 * unknown failure would drop the message for good.
 */
export function toRecdeployError(error: unknown): RecdeployError {
  if (error instanceof RecdeployError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TransientError('INTERNAL', message, { cause: error });
}

/** What a push-delivered handler answers: ack (2xx) or retry (non-2xx). */
export type DeliveryDecision = 'ack' | 'retry';

/** The single place where an error becomes an ack/retry decision. */
export function deliveryDecisionFor(error: unknown): DeliveryDecision {
  return toRecdeployError(error).retryable ? 'retry' : 'ack';
}

/** Bounds text that ends up in stored documents (Firestore's 1 MiB document limit). */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const marker = `… [${text.length - maxChars} more chars]`;
  return text.slice(0, Math.max(0, maxChars - marker.length)) + marker;
}
