/**
 * Input that can never succeed is acknowledged and recorded with its reason
 * (DESIGN.md §3), never retried and never passed on. Input that is well
 * formed but starts no work (EVENT.IGNORED, such as a pipeline job that
 * failed) is recorded the same way, under its own code, so an operator who
 * wonders why nothing was deployed finds the answer where rejections are.
 */
import { createHash } from 'node:crypto';
import type { EventRejection } from '@recdeploy/events';
import type { Logger } from '../logging/logger.port.js';
import type { RunStore } from '../ports/run-store.port.js';

export interface RejectionSource {
  /** The CloudEvent id when it could be read. */
  readonly eventId?: string;
  /** The CloudEvent source (topic) when known. */
  readonly source?: string;
  /** A digest of the whole delivery, the key of one without an id (noIdKey). */
  readonly digest?: string;
}

/** What recordRejection needs of a rejection. */
export type RecordableRejection = Pick<
  EventRejection,
  'code' | 'reason' | 'idempotencyKey' | 'excerpt' | 'kind'
> & { eventId?: string };

/** Records a rejection (EVENT.INVALID) or an ignored event (EVENT.IGNORED), and logs it. */
export async function recordRejection(
  deps: { runStore: RunStore; logger: Logger },
  rejection: RecordableRejection,
  where: RejectionSource,
): Promise<void> {
  const eventId =
    rejection.eventId ??
    where.eventId ??
    noIdKey(where.digest ?? digestOf(`${rejection.reason}\n${rejection.excerpt ?? ''}`));
  const fields = {
    code: rejection.code,
    eventId,
    runId: rejection.idempotencyKey,
    ...(rejection.kind === undefined ? {} : { kind: rejection.kind }),
  };
  // Both at warn: the local stack shows warn and above, and an ignored
  // training run (its pipeline failed) is news to whoever waits for it.
  const verb = rejection.code === 'EVENT.IGNORED' ? 'ignored' : 'rejected';
  deps.logger.warn(`${verb}: ${rejection.reason}`, fields);
  const reason =
    rejection.idempotencyKey === undefined
      ? rejection.reason
      : `run ${rejection.idempotencyKey}: ${rejection.reason}`;
  await deps.runStore.recordRejectedEvent({
    eventId,
    code: rejection.code,
    reason,
    ...(rejection.kind === undefined ? {} : { kind: rejection.kind }),
    receivedAt: new Date().toISOString(),
    ...(where.source === undefined ? {} : { source: where.source }),
    ...(rejection.excerpt === undefined ? {} : { excerpt: rejection.excerpt }),
  });
}

/**
 * The record key of a delivery without an event id: the same content gives
 * the same key (a redelivery collapses into one row), different content a
 * different one (hundreds of id-less deliveries are not one `unknown` row).
 */
export function noIdKey(digest: string): string {
  return `no-id:${digest}`;
}

/** A short sha256 of some text (64 bits: enough to keep deliveries apart). */
export function digestOf(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * The id and source of a CloudEvent-like object, read defensively (it may be
 * anything); without an id, a digest of the whole object to key it by.
 */
export function sourceOf(cloudEvent: unknown): RejectionSource {
  if (typeof cloudEvent !== 'object' || cloudEvent === null) {
    return { digest: digestOf(String(cloudEvent)) };
  }
  try {
    const { id, source } = cloudEvent as { id?: unknown; source?: unknown };
    const eventId = typeof id === 'string' && id !== '' ? id.slice(0, 256) : undefined;
    return {
      ...(eventId === undefined ? { digest: digestOf(jsonText(cloudEvent)) } : { eventId }),
      ...(typeof source === 'string' && source !== '' ? { source: source.slice(0, 512) } : {}),
    };
  } catch {
    // A hostile object (throwing getter, proxy): recordRejection keys it by its reason.
    return {};
  }
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
