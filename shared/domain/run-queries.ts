import { truncateText } from '../errors.js';
import type { RejectedEvent } from './run-store-types.js';

/** Default and maximum page sizes of listRuns and listRejectedEvents. */
export const LIST_LIMITS = { default: 50, max: 500 } as const;

/** How many rejected events the embedded store keeps (newest first). */
export const DEFAULT_MAX_REJECTED_EVENTS = 1_000;

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
    ...(event.source === undefined ? {} : { source: truncateText(event.source, 500) }),
    ...(event.excerpt === undefined ? {} : { excerpt: truncateText(event.excerpt, 2_000) }),
    receivedAt: (Number.isNaN(ms) ? now : new Date(ms)).toISOString(),
  };
}
