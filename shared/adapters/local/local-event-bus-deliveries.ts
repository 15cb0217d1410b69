import type Database from 'better-sqlite3';
import type { LeaseOwner } from './local-event-bus-lease-owners.js';
import { deleteMessageIfDone, insertMessage } from './local-event-bus-messages.js';
import {
  SUBSCRIPTION_COLUMNS,
  toSubscriptionSettings,
  type SubscriptionRow,
  type SubscriptionSettings,
} from './local-event-bus-topology.js';
import type { PushedMessage } from './push-delivery.js';
import { writeTransaction } from './sqlite-database.js';

/** A delivery this process has leased and must now push. */
export interface ClaimedDelivery {
  readonly subscription: SubscriptionSettings;
  readonly messageSeq: number;
  readonly message: PushedMessage;
  /** 1 for the first attempt; what the body's `deliveryAttempt` says. */
  readonly attempt: number;
}

/** What a failed attempt left behind. */
export interface AttemptFailure {
  readonly status: number | null;
  readonly error: string;
}

/**
 * Extra time a lease lasts beyond the ack deadline (the HTTP timeout), so the
 * outcome of an attempt that timed out is written before the row comes due again.
 */
export const LEASE_GRACE_MS = 1_000;

interface DueRow extends SubscriptionRow {
  message_seq: number;
  attempts: number;
  id: string;
  message_topic: string;
  data: Buffer;
  attributes: string;
  ordering_key: string | null;
  publish_time: string;
}

/** Pending deliveries a push may start: with ordering on, only the oldest pending one per key. */
const ELIGIBLE = `d.state = 'pending'
  AND NOT (s.enable_message_ordering = 1 AND d.ordering_key IS NOT NULL AND EXISTS (
    SELECT 1 FROM bus_deliveries e
    WHERE e.subscription = d.subscription AND e.state = 'pending'
      AND e.ordering_key = d.ordering_key AND e.message_seq < d.message_seq))`;

/** Guards every verdict: only the attempt that was pushed may settle the row. */
const SAME_ATTEMPT = `subscription = @sub AND message_seq = @seq AND attempts = @attempt
  AND state = 'pending'`;

/** A verdict ends the lease: nobody holds the row until the next claim. */
const NO_HOLDER = 'lease_pid = NULL, lease_owner = NULL';

function toClaimed(row: DueRow): ClaimedDelivery {
  return {
    subscription: toSubscriptionSettings(row),
    messageSeq: row.message_seq,
    attempt: row.attempts + 1,
    message: {
      messageId: row.id,
      topic: row.message_topic,
      data: row.data,
      attributes: JSON.parse(row.attributes) as Record<string, string>,
      orderingKey: row.ordering_key,
      publishTime: row.publish_time,
    },
  };
}

function keyOf(d: ClaimedDelivery): { sub: string; seq: number; attempt: number } {
  return { sub: d.subscription.name, seq: d.messageSeq, attempt: d.attempt };
}

/**
 * The delivery queue over the bus's SQLite file. Claiming a delivery counts
 * the attempt, moves `next_attempt_at` past the ack deadline (a lease) and
 * records `owner` as its holder in one transaction, so nothing is "in flight"
 * only in memory: if the process dies, the row comes due again when the next
 * bus starts (releaseLeasesOfDeadOwners) or, at the latest, when the lease
 * runs out. Every verdict clears the holder.
 */
export class DeliveryQueue {
  constructor(
    private readonly db: Database.Database,
    private readonly projectId: string,
    private readonly owner: LeaseOwner,
  ) {}

  /** Leases up to `limit` deliveries due at `now`. */
  claimDue(now: number, limit: number): ClaimedDelivery[] {
    return writeTransaction(this.db, () => {
      const rows = this.db
        .prepare(
          `SELECT ${SUBSCRIPTION_COLUMNS}, d.message_seq, d.attempts, m.id,
             m.topic AS message_topic, m.data, m.attributes, m.ordering_key, m.publish_time
           FROM bus_deliveries d
           JOIN bus_messages m ON m.seq = d.message_seq
           JOIN bus_subscriptions s ON s.name = d.subscription
           WHERE ${ELIGIBLE} AND d.next_attempt_at <= ?
           ORDER BY d.next_attempt_at, d.message_seq LIMIT ?`,
        )
        .all(now, limit) as DueRow[];
      const lease = this.db.prepare(
        `UPDATE bus_deliveries SET attempts = attempts + 1, next_attempt_at = @until,
           lease_pid = @pid, lease_owner = @instance
         WHERE subscription = @sub AND message_seq = @seq`,
      );
      const claimed: ClaimedDelivery[] = [];
      for (const row of rows) {
        const delivery = toClaimed(row);
        if (row.attempts >= row.max_delivery_attempts) {
          // The last attempt's lease ran out without a verdict: its process died.
          const error = `attempt ${row.attempts} got no answer before its process stopped`;
          this.markDead({ ...delivery, attempt: row.attempts }, { status: null, error });
          continue;
        }
        const until = now + row.ack_deadline_ms + LEASE_GRACE_MS;
        lease.run({ until, ...this.owner, sub: row.name, seq: row.message_seq });
        claimed.push(delivery);
      }
      return claimed;
    });
  }

  /** When the next eligible delivery comes due (epoch ms); undefined if none is pending. */
  nextDueAt(): number | undefined {
    // ORDER BY + LIMIT walks the due index and stops at the first eligible row;
    // MIN() with this filter would scan every pending delivery.
    const row = this.db
      .prepare(
        `SELECT d.next_attempt_at AS due FROM bus_deliveries d
         JOIN bus_subscriptions s ON s.name = d.subscription
         WHERE ${ELIGIBLE} ORDER BY d.next_attempt_at LIMIT 1`,
      )
      .get() as { due: number } | undefined;
    return row?.due;
  }

  /** The receiver answered 2xx: the delivery is done for good. */
  ack(d: ClaimedDelivery): void {
    writeTransaction(this.db, () => {
      const { changes } = this.db
        .prepare(`DELETE FROM bus_deliveries WHERE ${SAME_ATTEMPT}`)
        .run(keyOf(d));
      if (changes === 0) return;
      this.db
        .prepare('UPDATE bus_subscriptions SET acked_count = acked_count + 1 WHERE name = ?')
        .run(d.subscription.name);
      deleteMessageIfDone(this.db, d.messageSeq);
    });
  }

  /** A failed attempt with attempts left: due again at `dueAt`. */
  retryAt(d: ClaimedDelivery, failure: AttemptFailure, dueAt: number): void {
    this.db
      .prepare(
        `UPDATE bus_deliveries SET next_attempt_at = @dueAt, last_status = @status,
           last_error = @error, ${NO_HOLDER} WHERE ${SAME_ATTEMPT}`,
      )
      .run({ ...keyOf(d), ...failure, dueAt });
  }

  /** Our own shutdown cut the attempt short: it does not count, and the row is due now. */
  release(d: ClaimedDelivery, now: number): void {
    this.db
      .prepare(
        `UPDATE bus_deliveries SET attempts = attempts - 1, next_attempt_at = @now, ${NO_HOLDER}
         WHERE ${SAME_ATTEMPT}`,
      )
      .run({ ...keyOf(d), now });
  }

  /** The last attempt failed: keep the delivery as dead and forward it to the dead-letter topic. */
  deadLetter(d: ClaimedDelivery, failure: AttemptFailure): void {
    writeTransaction(this.db, () => this.markDead(d, failure));
  }

  private markDead(d: ClaimedDelivery, failure: AttemptFailure): void {
    const { subscription: sub, message } = d;
    const { changes } = this.db
      .prepare(
        `UPDATE bus_deliveries SET state = 'dead', last_status = @status, last_error = @error,
           dead_lettered_at = @at, ${NO_HOLDER} WHERE ${SAME_ATTEMPT}`,
      )
      .run({ ...keyOf(d), ...failure, at: new Date().toISOString() });
    if (changes === 0 || sub.deadLetterTopic === null) return;
    const forwardedId = insertMessage(this.db, sub.deadLetterTopic, {
      data: message.data,
      orderingKey: message.orderingKey,
      // The attributes Pub/Sub adds when it forwards to a dead-letter topic.
      attributes: {
        ...message.attributes,
        CloudPubSubDeadLetterSourceDeliveryCount: String(d.attempt),
        CloudPubSubDeadLetterSourceSubscription: sub.name,
        CloudPubSubDeadLetterSourceSubscriptionProject: this.projectId,
        CloudPubSubDeadLetterSourceTopicPublishTime: message.publishTime,
      },
    });
    this.db
      .prepare(
        `UPDATE bus_deliveries SET dead_letter_message_id = ?
         WHERE subscription = ? AND message_seq = ?`,
      )
      .run(forwardedId, sub.name, d.messageSeq);
  }
}
