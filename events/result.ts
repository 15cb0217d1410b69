/**
 * The one result shape every parser in this package returns. Parsers never
 * throw: a handler turns a rejection into "acknowledge and record" (the input
 * can never succeed, so retrying it would only loop), and a throw would be
 * mistaken for a passing failure and retried by the bus.
 */

/**
 * `EVENT.INVALID`: the input is malformed or breaks the contract.
 * `EVENT.IGNORED`: the input is well formed but deliberately starts no work
 * (for example a pipeline job that FAILED); it is acknowledged, not an error.
 */
export type RejectionCode = 'EVENT.INVALID' | 'EVENT.IGNORED';

/** Every rejection code, for exhaustive checks and tests. */
export const REJECTION_CODES: readonly RejectionCode[] = ['EVENT.INVALID', 'EVENT.IGNORED'];

/** Why an input was not accepted, in a form that can be logged and stored on a run document. */
export interface EventRejection {
  readonly code: RejectionCode;
  /** Precise and human readable: which field or path, and why. */
  readonly reason: string;
  /** The CloudEvent id (the Pub/Sub message id) when it could be read. */
  readonly eventId?: string;
  /** The business key (e.g. the run id) when it could be read, so the run document can record the rejection. */
  readonly idempotencyKey?: string;
  /** The first characters of the raw payload, for whoever investigates. */
  readonly excerpt?: string;
  /**
   * What arrived, as a short stable phrase to group by ("Cloud Audit Log
   * entry", "training-completed message"); see payload-kind.ts.
   */
  readonly kind?: string;
}

/** A rejected parse; assignable to every `ParseResult<T>`. */
export interface Rejected {
  readonly ok: false;
  readonly rejection: EventRejection;
}

/** Either the typed value or a rejection saying why not. */
export type ParseResult<T> = { readonly ok: true; readonly value: T } | Rejected;

/** Longest excerpt kept in a rejection (it ends up in stored documents). */
export const MAX_EXCERPT_CHARS = 512;

/** Context a rejection may carry besides code and reason. */
export type RejectionContext = Omit<EventRejection, 'code' | 'reason'>;

/** Wraps an accepted value. */
export function accepted<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

/** A rejection for input that can never succeed. */
export function invalid(reason: string, context: RejectionContext = {}): Rejected {
  return { ok: false, rejection: { code: 'EVENT.INVALID', reason, ...definedOnly(context) } };
}

/** A rejection for well-formed input that deliberately starts no work. */
export function ignored(reason: string, context: RejectionContext = {}): Rejected {
  return { ok: false, rejection: { code: 'EVENT.IGNORED', reason, ...definedOnly(context) } };
}

/**
 * Adds context an outer layer knows (the event id, say) to a rejection from an
 * inner layer, without overwriting what the inner layer already filled in.
 */
export function withContext(rejected: Rejected, context: RejectionContext): Rejected {
  const { code, reason } = rejected.rejection;
  // code and reason first, so stored and logged rejections read naturally.
  return {
    ok: false,
    rejection: { code, reason, ...definedOnly(context), ...definedOnly(rejected.rejection) },
  };
}

/**
 * The first MAX_EXCERPT_CHARS characters of a raw payload: strings as they
 * are, anything else as JSON. Undefined when the value cannot be shown.
 */
export function excerptOf(raw: unknown): string | undefined {
  try {
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    if (typeof text !== 'string' || text.length === 0) return undefined;
    if (text.length <= MAX_EXCERPT_CHARS) return text;
    // Never cut a surrogate pair in half: stored documents must be valid UTF-8.
    const last = text.charCodeAt(MAX_EXCERPT_CHARS - 1);
    const end = last >= 0xd800 && last <= 0xdbff ? MAX_EXCERPT_CHARS - 1 : MAX_EXCERPT_CHARS;
    return text.slice(0, end);
  } catch {
    return undefined;
  }
}

/**
 * Runs a parser and turns anything it throws into an `EVENT.INVALID`
 * rejection. The entry points that walk caller-provided objects (CloudEvents,
 * HTTP deliveries, training-completed payloads) go through this, so hostile
 * input (throwing getters, proxies) can never escape as an exception. The
 * payload parsers get the same guarantee from toJsonData, which copies their
 * input inside a try.
 */
export function neverThrow<A extends unknown[], T>(
  what: string,
  parse: (...args: A) => ParseResult<T>,
): (...args: A) => ParseResult<T> {
  return (...args: A) => {
    try {
      return parse(...args);
    } catch (error) {
      return invalid(`${what} could not be read: ${describeThrown(error)}`);
    }
  };
}

/** A short, safe description of anything thrown (reading it may throw again). */
export function describeThrown(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message).slice(0, 200) : 'a non-Error was thrown';
  } catch {
    // A thrown proxy can throw again while we look at it.
    return 'an unreadable error was thrown';
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
