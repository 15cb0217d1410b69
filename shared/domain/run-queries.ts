import { truncateText } from '../errors.js';
import type { RejectedEvent } from './run-store-types.js';

/** Default and maximum page sizes of listRuns and listRejectedEvents. */
export const LIST_LIMITS = { default: 50, max: 500 } as const;

/**
 * How many rejected events the embedded store keeps in all (newest first): a
 * backstop only. The bound that matters is per group (below), so that a
 * flood of one kind of poison cannot push out the rejections of another.
 */
export const DEFAULT_MAX_REJECTED_EVENTS = 10_000;

/** Rejected events kept per group (rejectedEventGroup), newest first. */
export const MAX_REJECTED_EVENTS_PER_GROUP = 200;

/** Rejected events older than this are dropped (SQLite on write, Firestore by its TTL policy). */
export const REJECTED_EVENT_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

/** Longest stored kind: kinds are short phrases to group by. */
const MAX_KIND_CHARS = 100;

/** What a rejected event is bounded and grouped by: its kind, else its code. */
export function rejectedEventGroup(event: Pick<RejectedEvent, 'kind' | 'code'>): string {
  return event.kind ?? event.code;
}

/** A list limit: default 50, at least 1, at most 500, whole. */
export function resolveListLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return LIST_LIMITS.default;
  return Math.min(LIST_LIMITS.max, Math.max(1, Math.floor(limit)));
}

/**
 * A rejected event with bounded text, so a flood of huge bad payloads cannot
 * bloat the store. receivedAt is kept canonical (UTC ISO) so it sorts as text;
 * an unreadable one is replaced by `now`.
 */
export function boundRejectedEvent(event: RejectedEvent, now: Date): RejectedEvent {
  const ms = Date.parse(event.receivedAt);
  return {
    eventId: truncateText(event.eventId, 500),
    code: truncateText(event.code, 100),
    reason: truncateText(event.reason, 2_000),
    // One line: a kind is a grouping key, never a place for payload text.
    ...(event.kind === undefined
      ? {}
      : { kind: truncateText(event.kind.replace(/\s+/g, ' '), MAX_KIND_CHARS) }),
    ...(event.source === undefined ? {} : { source: truncateText(event.source, 500) }),
    ...(event.excerpt === undefined ? {} : { excerpt: truncateText(event.excerpt, 2_000) }),
    receivedAt: (Number.isNaN(ms) ? now : new Date(ms)).toISOString(),
  };
}
