/**
 * Input that can never succeed is acknowledged and recorded with its reason
 * (DESIGN.md §3), never retried and never passed on.
 */
import type { EventRejection } from '@recdeploy/events';
import type { Logger } from '../logging/logger.port.js';
import type { RunStore } from '../ports/run-store.port.js';

export interface RejectionSource {
  /** The CloudEvent id when it could be read. */
  readonly eventId?: string;
  /** The CloudEvent source (topic) when known. */
  readonly source?: string;
}

/**
 * Records a rejection. `EVENT.IGNORED` (well-formed input that starts no work,
 * such as a pipeline job that failed) is only logged: it is not an error.
 */
export async function recordRejection(
  deps: { runStore: RunStore; logger: Logger },
  rejection: Pick<EventRejection, 'code' | 'reason' | 'idempotencyKey' | 'excerpt'> & {
    eventId?: string;
  },
  where: RejectionSource,
): Promise<void> {
  const eventId = rejection.eventId ?? where.eventId ?? 'unknown';
  const fields = { code: rejection.code, eventId, runId: rejection.idempotencyKey };
  if (rejection.code === 'EVENT.IGNORED') {
    deps.logger.info(`ignored: ${rejection.reason}`, fields);
    return;
  }
  deps.logger.warn(`rejected: ${rejection.reason}`, fields);
  const reason =
    rejection.idempotencyKey === undefined
      ? rejection.reason
      : `run ${rejection.idempotencyKey}: ${rejection.reason}`;
  await deps.runStore.recordRejectedEvent({
    eventId,
    code: rejection.code,
    reason,
    receivedAt: new Date().toISOString(),
    ...(where.source === undefined ? {} : { source: where.source }),
    ...(rejection.excerpt === undefined ? {} : { excerpt: rejection.excerpt }),
  });
}

/** The id and source of a CloudEvent-like object, read defensively (it may be anything). */
export function sourceOf(cloudEvent: unknown): RejectionSource {
  if (typeof cloudEvent !== 'object' || cloudEvent === null) return {};
  const { id, source } = cloudEvent as { id?: unknown; source?: unknown };
  return {
    ...(typeof id === 'string' && id !== '' ? { eventId: id.slice(0, 256) } : {}),
    ...(typeof source === 'string' && source !== '' ? { source: source.slice(0, 512) } : {}),
  };
}
